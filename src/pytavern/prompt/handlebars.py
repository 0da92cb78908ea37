"""Context-template story strings rendered with Handlebars semantics (no HTML escaping).

SillyTavern compiles story strings with Handlebars 4.7 (``noEscape``). This renderer follows
it exactly for what story strings use: ``{{x}}``, ``{{{x}}}``, ``{{#if}}``, ``{{#unless}}``,
``{{#each}}``, ``{{#with}}``, sections over a value, ``{{else}}``, comments, ``~`` whitespace
control and Handlebars' standalone rule (a block tag alone on its line is removed together
with that line's whitespace and newline; the port of ``whitespace-control.js`` is below).

Names not in the params are left as ``{{name}}`` (SillyTavern's ``helperMissing`` hook turns
them back into macros, which ``{{trim}}`` is too); the prompt's macro pass fills them later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from pytavern.errors import FormatError

_HINT = "Check the context template's story string (Handlebars syntax)."
_TAG = re.compile(
    r"{{(~?)(?:(!--.*?--)|(!.*?)|{\s*(.*?)\s*}|([#/^&]?)\s*(.*?)\s*)(~?)}}", re.DOTALL
)
_LEADING_ANY = re.compile(r"^\s+")
_TRAILING_ANY = re.compile(r"\s+$")
_LEADING_LINE = re.compile(r"^[ \t]*\r?\n?")
_TRAILING_LINE = re.compile(r"[ \t]+$")
_PREV_NESTED = re.compile(r"\r?\n\s*?$")
_PREV_ROOT = re.compile(r"(^|\r?\n)\s*?$")
_NEXT_NESTED = re.compile(r"^\s*?\r?\n")
_NEXT_ROOT = re.compile(r"^\s*?(\r?\n|$)")


@dataclass(slots=True)
class _Content:
    original: str
    value: str
    left_stripped: bool = False
    right_stripped: bool = False


@dataclass(slots=True)
class _Strip:
    open: bool = False
    close: bool = False
    open_standalone: bool = False
    close_standalone: bool = False
    inline_standalone: bool = False


@dataclass(slots=True)
class _Mustache:
    path: str
    strip: _Strip


@dataclass(slots=True)
class _Comment:
    strip: _Strip


@dataclass(slots=True)
class _Block:
    helper: str
    arg: str
    program: list[_Node]
    inverse: list[_Node] | None
    open_strip: tuple[bool, bool]
    inverse_strip: tuple[bool, bool] = (False, False)
    close_strip: tuple[bool, bool] = (False, False)


_Node = _Content | _Mustache | _Comment | _Block


@dataclass(slots=True)
class _Frame:
    """One context level: the value names resolve against, and ``@`` data."""

    value: object
    data: dict[str, object] = field(default_factory=dict)


def render(template: str, params: Mapping[str, object]) -> str:
    """Render ``template`` with ``params`` as Handlebars 4.7 does with ``noEscape``."""
    body = _compile(template)
    out: list[str] = []
    _emit(body, [_Frame(params)], out)
    return "".join(out)


@lru_cache(maxsize=64)
def _compile(template: str) -> list[_Node]:
    body, _, end = _parse(template, 0, None)
    if end is not None:
        raise FormatError(f"story string: unexpected {{{{{end}}}}}", hint=_HINT)
    _program(body, is_root=True)
    return body


# --- parsing -------------------------------------------------------------------------------


def _parse(text: str, pos: int, closing: str | None) -> tuple[list[_Node], int, str | None]:
    """Parse until ``{{else}}`` or ``{{/closing}}``; return the body, the tag's start and it."""
    body: list[_Node] = []
    while True:
        m = _TAG.search(text, pos)
        if m is None:
            _add_text(body, text[pos:])
            if closing is not None:
                raise FormatError(f"story string: {{{{#{closing}}}}} is not closed", hint=_HINT)
            return body, len(text), None
        _add_text(body, text[pos : m.start()])
        pos = m.end()
        strip = _Strip(open=m.group(1) == "~", close=m.group(7) == "~")
        if m.group(2) is not None or m.group(3) is not None:
            body.append(_Comment(strip))
            continue
        if m.group(4) is not None:
            body.append(_Mustache(m.group(4), strip))
            continue
        sigil, inner = m.group(5), m.group(6)
        if sigil == "/" or (sigil == "" and inner == "else") or (sigil == "^" and not inner):
            if closing is None:
                raise FormatError(f"story string: unexpected {{{{{sigil}{inner}}}}}", hint=_HINT)
            return body, m.start(), m.group(0)
        if sigil in ("#", "^"):
            block, pos = _parse_block(text, pos, inner, sigil, (strip.open, strip.close))
            body.append(block)
            continue
        body.append(_Mustache(inner, strip))


def _parse_block(
    text: str, pos: int, inner: str, sigil: str, open_strip: tuple[bool, bool]
) -> tuple[_Block, int]:
    helper, _, arg = inner.partition(" ")
    program, pos, tag = _parse(text, pos, helper)
    block = _Block(helper, arg.strip(), program, None, open_strip)
    m = _TAG.match(text, pos)
    assert m is not None and tag is not None
    if not tag.lstrip("{~").startswith("/"):
        block.inverse_strip = (m.group(1) == "~", m.group(7) == "~")
        block.inverse, pos, tag = _parse(text, m.end(), helper)
        m = _TAG.match(text, pos)
        assert m is not None and tag is not None
        if not tag.lstrip("{~").startswith("/"):
            raise FormatError(
                f"story string: a second {{{{else}}}} in {{{{#{helper}}}}}", hint=_HINT
            )
    if m.group(6) != helper:
        raise FormatError(
            f"story string: {{{{#{helper}}}}} is closed by {m.group(0)}",
            hint=f"Close it with {{{{/{helper}}}}}.",
        )
    block.close_strip = (m.group(1) == "~", m.group(7) == "~")
    if sigil == "^":
        block.program, block.inverse = block.inverse or [], block.program
    return block, m.end()


def _add_text(body: list[_Node], text: str) -> None:
    if text:
        body.append(_Content(text, text))


# --- whitespace control: a port of Handlebars' compiler/whitespace-control.js ----------------


def _program(body: list[_Node], is_root: bool = False) -> None:
    for i, node in enumerate(body):
        strip = _accept(node)
        if strip is None:
            continue
        prev_ws = _is_prev_whitespace(body, i, is_root)
        next_ws = _is_next_whitespace(body, i, is_root)
        if strip.close:
            _omit_right(body, i, multiple=True)
        if strip.open:
            _omit_left(body, i, multiple=True)
        if strip.inline_standalone and prev_ws and next_ws:
            _omit_right(body, i)
            _omit_left(body, i)
        if strip.open_standalone and prev_ws and isinstance(node, _Block):
            _omit_right(node.program, None)
            _omit_left(body, i)
        if strip.close_standalone and next_ws and isinstance(node, _Block):
            _omit_right(body, i)
            _omit_left(node.inverse if node.inverse is not None else node.program, None)


def _accept(node: _Node) -> _Strip | None:
    if isinstance(node, _Mustache):
        return node.strip
    if isinstance(node, _Comment):
        return _Strip(node.strip.open, node.strip.close, inline_standalone=True)
    if isinstance(node, _Block):
        return _block_strip(node)
    return None


def _block_strip(block: _Block) -> _Strip:
    _program(block.program)
    if block.inverse is not None:
        _program(block.inverse)
    first = block.inverse if block.inverse is not None else block.program
    strip = _Strip(
        open=block.open_strip[0],
        close=block.close_strip[1],
        open_standalone=bool(_is_next_whitespace(block.program, None)),
        close_standalone=bool(_is_prev_whitespace(first, None)),
    )
    if block.open_strip[1]:
        _omit_right(block.program, None, multiple=True)
    if block.inverse is not None:
        if block.inverse_strip[0]:
            _omit_left(block.program, None, multiple=True)
        if block.inverse_strip[1]:
            _omit_right(block.inverse, None, multiple=True)
        if block.close_strip[0]:
            _omit_left(block.inverse, None, multiple=True)
        if _is_prev_whitespace(block.program, None) and _is_next_whitespace(block.inverse, None):
            _omit_left(block.program, None)
            _omit_right(block.inverse, None)
    elif block.close_strip[0]:
        _omit_left(block.program, None, multiple=True)
    return strip


def _is_prev_whitespace(body: Sequence[_Node], i: int | None, is_root: bool = False) -> bool | None:
    i = len(body) if i is None else i
    prev = body[i - 1] if i >= 1 else None
    if prev is None:
        return is_root
    if isinstance(prev, _Content):
        sibling = i >= 2
        pattern = _PREV_NESTED if sibling or not is_root else _PREV_ROOT
        return pattern.search(prev.original) is not None
    return None


def _is_next_whitespace(body: Sequence[_Node], i: int | None, is_root: bool = False) -> bool | None:
    i = -1 if i is None else i
    nxt = body[i + 1] if i + 1 < len(body) else None
    if nxt is None:
        return is_root
    if isinstance(nxt, _Content):
        sibling = i + 2 < len(body)
        pattern = _NEXT_NESTED if sibling or not is_root else _NEXT_ROOT
        return pattern.search(nxt.original) is not None
    return None


def _omit_right(body: list[_Node], i: int | None, multiple: bool = False) -> None:
    index = 0 if i is None else i + 1
    current = body[index] if index < len(body) else None
    if not isinstance(current, _Content) or (not multiple and current.right_stripped):
        return
    original = current.value
    current.value = (_LEADING_ANY if multiple else _LEADING_LINE).sub("", current.value, count=1)
    current.right_stripped = current.value != original


def _omit_left(body: list[_Node], i: int | None, multiple: bool = False) -> bool:
    index = len(body) - 1 if i is None else i - 1
    current = body[index] if 0 <= index < len(body) else None
    if not isinstance(current, _Content) or (not multiple and current.left_stripped):
        return False
    original = current.value
    current.value = (_TRAILING_ANY if multiple else _TRAILING_LINE).sub("", current.value, count=1)
    current.left_stripped = current.value != original
    return current.left_stripped


# --- evaluation ----------------------------------------------------------------------------

_MISSING = object()


def _emit(body: Sequence[_Node], stack: list[_Frame], out: list[str]) -> None:
    for node in body:
        if isinstance(node, _Content):
            out.append(node.value)
        elif isinstance(node, _Mustache):
            value = _lookup(node.path, stack)
            out.append("{{" + node.path + "}}" if value is _MISSING else _text(value))
        elif isinstance(node, _Block):
            _emit_block(node, stack, out)


def _emit_block(block: _Block, stack: list[_Frame], out: list[str]) -> None:
    value = _lookup(block.arg, stack) if block.arg else _MISSING
    value = None if value is _MISSING else value
    inverse = block.inverse or []
    if block.helper in ("if", "unless"):
        chosen = _truthy(value) != (block.helper == "unless")
        _emit(block.program if chosen else inverse, stack, out)
    elif block.helper == "with":
        if _truthy(value):
            _emit(block.program, [*stack, _Frame(value)], out)
        else:
            _emit(inverse, stack, out)
    elif block.helper == "each":
        _emit_each(block, value, stack, out)
    elif not block.arg:
        section = _lookup(block.helper, stack)
        _emit_section(block, None if section is _MISSING else section, stack, out)
    else:
        raise FormatError(f"story string: unknown block helper {{{{#{block.helper}}}}}", hint=_HINT)


def _emit_section(block: _Block, value: object, stack: list[_Frame], out: list[str]) -> None:
    """Handlebars' ``blockHelperMissing``: a section over the value of ``{{#name}}``."""
    if value is True:
        _emit(block.program, stack, out)
    elif not _truthy(value):
        _emit(block.inverse or [], stack, out)
    elif isinstance(value, (list, tuple)):
        _emit_each(block, value, stack, out)
    else:
        _emit(block.program, [*stack, _Frame(value)], out)


def _emit_each(block: _Block, value: object, stack: list[_Frame], out: list[str]) -> None:
    items: list[tuple[object, object]]
    if isinstance(value, Mapping):
        items = [(k, v) for k, v in value.items()]
    elif isinstance(value, (list, tuple, str)):
        items = list(enumerate(value))
    else:
        items = []
    if not items:
        _emit(block.inverse or [], stack, out)
        return
    for n, (key, item) in enumerate(items):
        data = {"index": n, "key": key, "first": n == 0, "last": n == len(items) - 1}
        _emit(block.program, [*stack, _Frame(item, data)], out)


def _lookup(path: str, stack: list[_Frame]) -> object:
    depth = len(stack) - 1
    while path.startswith("../"):
        path, depth = path[3:], max(depth - 1, 0)
    frame = stack[depth]
    if path.startswith("@"):
        if path[1:] == "root":
            return stack[0].value
        return frame.data.get(path[1:], _MISSING)
    if path in ("this", "."):
        return frame.value
    path = path.removeprefix("this.").removeprefix("./")
    value: object = frame.value
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, (list, tuple)) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _truthy(value: object) -> bool:
    """Handlebars' ``if``: false for false, undefined, null, "", 0, NaN and ``[]``."""
    if isinstance(value, float) and value != value:
        return False
    return bool(value) or isinstance(value, Mapping)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    return str(value)
