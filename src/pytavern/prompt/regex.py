"""Running SillyTavern regex scripts: JavaScript patterns in Python, in SillyTavern's order.

A script's ``findRegex`` is a JavaScript literal (``/pattern/flags``) or a bare pattern
(no flags: only the first match is replaced). ``runs`` decides, as SillyTavern's
``getRegexedString`` does, whether a script applies to a text (placement, display-only,
prompt-only, on edit, depth); ``run_script`` replaces as ``runRegexScript`` does: ``{{match}}``
and ``$n`` in the replacement, trim strings removed from what ``$n`` inserts, and macros
substituted last.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pytavern.formats.regex import Placement, RegexScript, Substitute
from pytavern.prompt.macros import MacroContext, evaluate

_LITERAL = re.compile(r"(/?)(.+)\1([a-z]*)", re.IGNORECASE | re.DOTALL)
_VALID_FLAGS = re.compile(r"^(?!.*?(.).*?\1)[gmixXsuUAJdvy]+$")
_GROUP_REF = re.compile(r"\$(\d+)")
_MATCH_MACRO = re.compile(r"\{\{match\}\}", re.IGNORECASE)
_CLASS_ESCAPES = {"d": "0-9", "w": "A-Za-z0-9_"}
_ESCAPES = {"d": "[0-9]", "D": "[^0-9]", "w": "[A-Za-z0-9_]", "W": "[^A-Za-z0-9_]", "/": "/"}
_REGEX_SPECIALS = re.compile(r"[\n\r\t\v\f\0.^$*+?{}\[\]\\/|()]")
_SPECIAL_NAMES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", "\f": "\\f", "\0": "\\0"}


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    """A JavaScript regex as Python runs it; ``is_global`` is the ``g`` flag."""

    pattern: re.Pattern[str]
    is_global: bool


@dataclass(frozen=True, slots=True)
class RegexUse:
    """What a text is being regexed for (SillyTavern's ``RegexParams``)."""

    placement: Placement
    markdown: bool = False
    """The text is about to be shown (display-only scripts run, and only they)."""
    prompt: bool = False
    """The text is about to be sent (prompt-only scripts run, and only they)."""
    edit: bool = False
    depth: int | None = None
    """How many messages from the newest (0), when the text is a chat message."""


def _translate_escape(source: str, index: int, in_class: bool) -> tuple[str, int]:
    char = source[index + 1] if index + 1 < len(source) else "\\"
    if in_class and char in _CLASS_ESCAPES:
        return _CLASS_ESCAPES[char], index + 2
    if not in_class and char in _ESCAPES:
        return _ESCAPES[char], index + 2
    if char == "k" and source.startswith("<", index + 2):
        end = source.find(">", index + 3)
        if end > 0:
            return f"(?P={source[index + 3 : end]})", end + 1
    return "\\" + char, index + 2


def _translate_class(source: str, index: int) -> tuple[str, int]:
    """A JavaScript ``[...]`` starting at ``index`` as Python (``[]``, ``[^]`` included)."""
    if source.startswith("[^]", index):
        return "[\\s\\S]", index + 3
    if source.startswith("[]", index):
        return "(?!)", index + 2
    out, index = ["["], index + 1
    while index < len(source) and source[index] != "]":
        if source[index] == "\\":
            part, index = _translate_escape(source, index, True)
        else:
            part, index = ("\\[" if source[index] == "[" else source[index]), index + 1
        out.append(part)
    out.append("]")
    return "".join(out), index + 1


def translate_pattern(source: str, multiline: bool) -> str:
    """A JavaScript regex pattern as a Python ``re`` pattern of the same meaning."""
    out: list[str] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\":
            part, index = _translate_escape(source, index, False)
        elif char == "[":
            part, index = _translate_class(source, index)
        elif source.startswith("(?<", index) and source[index + 3 : index + 4] not in ("=", "!"):
            part, index = "(?P<", index + 3
        elif char == "$" and not multiline:
            part, index = r"\Z", index + 1  # JavaScript's $ never matches before a final newline
        else:
            part, index = char, index + 1
        out.append(part)
    return "".join(out)


@lru_cache(maxsize=512)
def compile_js_regex(literal: str) -> CompiledPattern | None:
    """``/pattern/flags`` or a bare pattern compiled; ``None`` when it is not valid (as
    SillyTavern, a script with a broken pattern changes nothing)."""
    found = _LITERAL.fullmatch(literal)
    if found is None:
        return None
    body, flags = found.group(2), found.group(3)
    if flags and not _VALID_FLAGS.match(flags):
        body, flags = literal, ""
    options = re.NOFLAG
    options |= re.IGNORECASE if "i" in flags else re.NOFLAG
    options |= re.MULTILINE if "m" in flags else re.NOFLAG
    options |= re.DOTALL if "s" in flags else re.NOFLAG
    try:
        pattern = re.compile(translate_pattern(body, "m" in flags), options)
    except (re.error, RecursionError, OverflowError):
        return None
    return CompiledPattern(pattern, "g" in flags)


def escape_macro_value(value: str) -> str:
    """A macro's value made literal inside a regex (SillyTavern's ``sanitizeRegexMacro``)."""
    return _REGEX_SPECIALS.sub(lambda m: _SPECIAL_NAMES.get(m.group(0), "\\" + m.group(0)), value)


def _escaped_context(ctx: MacroContext) -> MacroContext:
    escaped = dataclasses.replace(
        ctx,
        variables={k: escape_macro_value(v) for k, v in ctx.variables.items()},
        global_variables={k: escape_macro_value(v) for k, v in ctx.global_variables.items()},
    )
    for item in dataclasses.fields(ctx):
        value = getattr(ctx, item.name)
        if item.init and isinstance(value, str):
            setattr(escaped, item.name, escape_macro_value(value))
    return escaped


def find_pattern(script: RegexScript, ctx: MacroContext) -> str:
    """The script's find pattern with its macros substituted as the script asks."""
    if script.substitute == Substitute.RAW:
        return evaluate(script.find, ctx)
    if script.substitute == Substitute.ESCAPED:
        return evaluate(script.find, _escaped_context(ctx))
    return script.find


def _trimmed(text: str, trims: Iterable[str], ctx: MacroContext) -> str:
    for trim in trims:
        needle = evaluate(trim, ctx)
        if needle:
            text = text.replace(needle, "")
    return text


def run_script(script: RegexScript, text: str, ctx: MacroContext) -> str:
    """``text`` with one script's replacement applied (unchanged when disabled or invalid)."""
    if script.disabled or not script.find or not text:
        return text
    compiled = compile_js_regex(find_pattern(script, ctx))
    if compiled is None:
        return text
    template = _MATCH_MACRO.sub("$0", script.replace)

    def replace(found: re.Match[str]) -> str:
        def group(ref: re.Match[str]) -> str:
            number = int(ref.group(1))
            value = found.group(number) if number <= compiled.pattern.groups else None
            return _trimmed(value, script.trim, ctx) if value else ""

        return evaluate(_GROUP_REF.sub(group, template), ctx)

    return compiled.pattern.sub(replace, text, count=0 if compiled.is_global else 1)


def _depth_allows(script: RegexScript, depth: int | None) -> bool:
    if depth is None:
        return True
    if script.min_depth is not None and script.min_depth >= -1 and depth < script.min_depth:
        return False
    return not (script.max_depth is not None and script.max_depth >= 0 and depth > script.max_depth)


def runs(script: RegexScript, use: RegexUse) -> bool:
    """Whether ``script`` applies to a text regexed for ``use`` (SillyTavern's rules)."""
    if script.disabled:
        return False
    plain = not script.markdown_only and not script.prompt_only
    wanted = (
        (script.markdown_only and use.markdown)
        or (script.prompt_only and use.prompt)
        or (plain and not use.markdown and not use.prompt)
    )
    if not wanted or (use.edit and not script.run_on_edit):
        return False
    return _depth_allows(script, use.depth) and int(use.placement) in script.placement


def apply_scripts(
    text: str, scripts: Iterable[RegexScript], use: RegexUse, ctx: MacroContext
) -> str:
    """``text`` with every script that applies to ``use`` run on it, in order."""
    for script in scripts:
        if text and runs(script, use):
            text = run_script(script, text, ctx)
    return text
