"""Story strings: the Handlebars subset ``{{#if}}``, ``{{#unless}}``, ``{{else}}``, ``{{x}}``.

Variables not in ``params`` are left as ``{{name}}`` so SillyTavern macros can fill them
afterwards (SillyTavern's ``helperMissing`` hook does the same).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pytavern.errors import FormatError

_TAG = re.compile(r"{{\s*(#if|#unless|else|/if|/unless)?\s*([^{}]*?)\s*}}")


def render(template: str, params: Mapping[str, str]) -> str:
    """Render ``template`` with ``params`` (no HTML escaping)."""
    return _render(template, 0, params, None)[0]


def _render(
    text: str, pos: int, params: Mapping[str, str], closing: str | None
) -> tuple[str, int, str | None]:
    parts: list[str] = []
    while True:
        m = _TAG.search(text, pos)
        if m is None:
            parts.append(text[pos:])
            return "".join(parts), len(text), closing
        parts.append(text[pos : m.start()])
        kind, name = m.group(1), m.group(2)
        pos = m.end()
        if kind in ("#if", "#unless"):
            value, pos = _block(text, pos, params, name, kind)
            parts.append(value)
        elif kind in ("/if", "/unless", "else"):
            if closing is None:
                raise FormatError(
                    f"story string: unexpected {{{{{kind}}}}}",
                    hint="Check the context template's story string.",
                )
            return "".join(parts), m.start(), None
        elif name in params:
            parts.append(str(params[name]))
        else:
            parts.append(m.group(0))


def _block(text: str, pos: int, params: Mapping[str, str], name: str, kind: str) -> tuple[str, int]:
    truthy = bool(params.get(name))
    if kind == "#unless":
        truthy = not truthy
    first, pos, _ = _render(text, pos, params, kind)
    second = ""
    m = _TAG.match(text, pos)
    if m and m.group(1) == "else":
        second, pos, _ = _render(text, m.end(), params, kind)
        m = _TAG.match(text, pos)
    if not m or m.group(1) != "/" + kind[1:]:
        raise FormatError(
            f"story string: {{{{{kind} {name}}}}} is not closed",
            hint="Add the matching {{/if}} or {{/unless}}.",
        )
    return (first if truthy else second), m.end()
