"""MkDocs hook: fill each backend page's ``<!-- api-types: MODULE -->`` marker with a table
of the API types that module serves, read from the provider registry when the site is built.
"""

from __future__ import annotations

import re
from typing import Any

from pytavern.providers import api_types

MARKER = re.compile(r"<!-- api-types: ([a-z_]+) -->")


def api_type_table(module: str) -> str:
    """A Markdown table of the registered API types served by ``providers/<module>.py``.

    The one place the docs read the registry; when backends declare specs, read them here.
    """
    rows = [
        "| `--api` | backend | default URL | key variable |",
        "|---|---|---|---|",
    ]
    for name, api_type in sorted(api_types().items()):
        if api_type.target.split(":")[0] != f"pytavern.providers.{module}":
            continue
        url = f"`{api_type.default_url}`" if api_type.default_url else "(give `--url`)"
        if not api_type.needs_url and not api_type.default_url:
            url = "none needed"
        key = f"`{api_type.key_env}`" if api_type.key_env else "none"
        rows.append(f"| `{name}` | {api_type.label} | {url} | {key} |")
    if len(rows) == 2:
        raise ValueError(f"no API type is served by pytavern.providers.{module}")
    return "\n".join(rows)


def on_page_markdown(markdown: str, **_kwargs: Any) -> str:
    """Replace every marker with its table."""
    return MARKER.sub(lambda match: api_type_table(match.group(1)), markdown)
