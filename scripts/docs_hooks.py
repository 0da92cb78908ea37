"""MkDocs hook: fill each backend page's ``<!-- api-types: MODULE -->`` marker with the API
types whose provider class is (or derives from) a class of ``providers/<MODULE>.py``, read
from the backends' declared specs when the site is built, with each type's own options.
"""

from __future__ import annotations

import re
from typing import Any

from pytavern.providers import specs
from pytavern.providers.spec import BackendSpec

MARKER = re.compile(r"<!-- api-types: ([a-z_]+) -->")


def served_by(spec: BackendSpec, module: str) -> bool:
    """Whether ``spec``'s provider class is, or derives from, a class of ``module``."""
    target = f"pytavern.providers.{module}"
    provider = spec.provider
    classes = provider.__mro__ if isinstance(provider, type) else (provider,)
    return any(getattr(cls, "__module__", None) == target for cls in classes)


def api_type_table(module: str) -> str:
    """A Markdown table of the API types served by ``providers/<module>.py``, then each
    type's own options (the options every connection takes are on the index page)."""
    served = [spec for spec in specs() if served_by(spec, module)]
    if not served:
        raise ValueError(f"no API type is served by pytavern.providers.{module}")
    rows = ["| `--api` | backend | default URL | key variable |", "|---|---|---|---|"]
    rows += [_row(spec) for spec in served]
    for spec in served:
        own = [info for info in spec.option_infos() if not info.common]
        if own:
            rows += ["", f"Options of `{spec.name}`:", ""]
            rows += [f"- `{info.name}` ({info.type}): {info.help}" for info in own]
    return "\n".join(rows)


def _row(spec: BackendSpec) -> str:
    url = f"`{spec.default_url}`" if spec.default_url else "(give `--url`)"
    if not spec.needs_url and not spec.default_url:
        url = "none needed"
    key = f"`{spec.key_env}`" if spec.key_env else "none"
    return f"| `{spec.name}` | {spec.label} | {url} | {key} |"


def on_page_markdown(markdown: str, **_kwargs: Any) -> str:
    """Replace every marker with its table."""
    return MARKER.sub(lambda match: api_type_table(match.group(1)), markdown)
