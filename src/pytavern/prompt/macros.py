"""SillyTavern macros (``{{char}}``, ``{{random::a::b}}``, ``{{setvar::x::v}}``...).

Everything that would be global state in SillyTavern (the clock, the random generator, chat
variables, the last messages) comes from a :class:`MacroContext`, so evaluation is
deterministic. The order of substitution follows SillyTavern's ``evaluateMacros``; the
time macros are in :mod:`pytavern.prompt.macro_time`.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from pytavern.prompt.macro_time import humanize as humanize
from pytavern.prompt.macro_time import substitute_time

_I = re.IGNORECASE


@dataclass(slots=True)
class MacroContext:
    """Everything macros can read or change. ``variables`` is changed in place by setvar."""

    user: str = "User"
    char: str = ""
    group: str | None = None
    description: str = ""
    personality: str = ""
    scenario: str = ""
    persona: str = ""
    mes_examples: str = ""
    char_prompt: str = ""
    char_jailbreak: str = ""
    char_version: str = ""
    model: str = ""
    now: datetime | None = None
    seed: int = 0
    chat_id: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    global_variables: dict[str, str] = field(default_factory=dict)
    last_message: str = ""
    last_user_message: str = ""
    last_char_message: str = ""
    last_message_id: int | None = None
    idle_since: datetime | None = None
    max_prompt: int | None = None
    extra: dict[str, str] = field(default_factory=dict)
    outlets: dict[str, str] = field(default_factory=dict)
    """World Info outlet contents by name, what ``{{outlet::name}}`` inserts."""
    banned_words: list[str] = field(default_factory=list)
    """Words ``{{banned "word"}}`` asked to ban (SillyTavern bans them on text backends);
    contexts copied with ``dataclasses.replace`` share the list."""
    _rng: random.Random | None = field(default=None, init=False, repr=False)
    _rng_of: MacroContext | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def rng(self) -> random.Random:
        """The random generator of ``{{roll}}`` and ``{{random}}``, seeded with ``seed``
        (made on first use: most prompts roll nothing), or the one this context shares."""
        if self._rng is None:
            shared = self._rng_of
            self._rng = shared.rng if shared is not None else random.Random(self.seed)
        return self._rng

    @rng.setter
    def rng(self, generator: random.Random) -> None:
        """Share another context's generator (one sequence across a prompt's contexts)."""
        self._rng = generator

    def share_rng(self, other: MacroContext) -> None:
        """Use ``other``'s generator, as ``self.rng = other.rng`` would, but make it only
        when either context first rolls (most builds roll nothing)."""
        if other._rng is not None:
            self._rng = other._rng
        else:
            self._rng, self._rng_of = None, other

    def clock(self) -> datetime:
        """The time macros see (``now`` when given)."""
        return self.now if self.now is not None else datetime.now(UTC)


_GIVEN = tuple(f.name for f in fields(MacroContext) if f.init)


def replaced(ctx: MacroContext, **changes: Any) -> MacroContext:
    """``dataclasses.replace(ctx, **changes)``, which costs several times this (a prompt
    makes three; ``changes`` are not checked against the fields)."""
    values = {name: getattr(ctx, name) for name in _GIVEN}
    values.update(changes)
    return MacroContext(**values)


def evaluate(text: str, ctx: MacroContext, original: str | None = None) -> str:
    """Substitute every macro in ``text``. ``original`` is what ``{{original}}`` inserts once."""
    if not text:
        return ""
    plain = evaluate_plain(text, ctx)
    return plain if plain is not None else evaluate_in_order(text, ctx, original)


def evaluate_plain(text: str, ctx: MacroContext) -> str | None:
    """``text`` with its macros substituted when they are all plain values (``{{char}}``,
    ``{{description}}``, legacy tags...), else ``None``. Such an evaluation changes nothing
    in ``ctx`` and gives the same text again while ``ctx``'s values stay as they are."""
    legacy_done = _legacy(text, ctx) if "<" in text else text
    if "{{" not in legacy_done:
        return legacy_done
    return _substitute_simple(legacy_done, ctx)


def evaluate_in_order(text: str, ctx: MacroContext, original: str | None = None) -> str:
    """Substitute every macro in SillyTavern's order, one kind after another.

    ``evaluate`` takes a one-pass shortcut when it gives the same result; this is the
    reference it is tested against.
    """
    if not text:
        return ""
    raw = text
    if "<" in text:
        text = _legacy(text, ctx)
    if "{{" not in text:
        return text
    text = _roll(text, ctx)
    text = _instruct_and_vars(text, ctx)
    text = re.sub(r"{{newline}}", "\n", text, flags=_I)
    text = re.sub(r"(?:\r?\n)*{{trim}}(?:\r?\n)*", "", text, flags=_I)
    text = re.sub(r"{{noop}}", "", text, flags=_I)
    text = _environment(text, ctx, original)
    text = _chat_state(text, ctx)
    text = _outlets(text, ctx)
    text = re.sub(r"\{\{//[\s\S]*?\}\}", "", text)
    text = _time(text, ctx)
    text = _banned(text, ctx)
    text = _random(text, ctx)
    return _pick(text, ctx, raw)


_MACRO = re.compile(r"{{([^{}]*)}}")


def _group(ctx: MacroContext) -> str:
    return ctx.group if ctx.group is not None else ctx.char


def _optional(value: int | None) -> str:
    return "" if value is None else str(value)


_BUILT_IN_VALUES: dict[str, Callable[[MacroContext], str]] = {
    "charprompt": lambda c: c.char_prompt,
    "charjailbreak": lambda c: c.char_jailbreak,
    "description": lambda c: c.description,
    "personality": lambda c: c.personality,
    "scenario": lambda c: c.scenario,
    "persona": lambda c: c.persona,
    "mesexamples": lambda c: c.mes_examples,
    "charversion": lambda c: c.char_version,
    "char_version": lambda c: c.char_version,
    "user": lambda c: c.user,
    "char": lambda c: c.char,
    "group": _group,
    "charifnotgroup": _group,
    "model": lambda c: c.model,
    "newline": lambda _c: "\n",
    "noop": lambda _c: "",
}
"""Macros that are plain values, by lower-cased name; they win over ``extra`` ones."""
_CHAT_STATE_VALUES: dict[str, Callable[[MacroContext], str]] = {
    "maxprompt": lambda c: _optional(c.max_prompt),
    "lastmessage": lambda c: c.last_message,
    "lastmessageid": lambda c: _optional(c.last_message_id),
    "lastusermessage": lambda c: c.last_user_message,
    "lastcharmessage": lambda c: c.last_char_message,
}
"""Plain-value macros that ``extra`` ones win over (the chain substitutes them later)."""


def _simple_value(ctx: MacroContext, name: str) -> str | None:
    """The value of the plain-value macro ``name`` (lower-cased), or ``None``."""
    getter = _BUILT_IN_VALUES.get(name)
    if getter is not None:
        return getter(ctx)
    if ctx.extra:
        for key, value in ctx.extra.items():
            if key.lower() == name:
                return value
    getter = _CHAT_STATE_VALUES.get(name)
    return getter(ctx) if getter is not None else None


def _substitute_simple(text: str, ctx: MacroContext) -> str | None:
    """One pass over ``text`` when its macros are all plain values, else ``None``.

    Most prompt parts hold only ``{{char}}``, ``{{user}}`` and the like; substituting them in
    one pass gives what the full ordered chain gives, as long as no substituted value holds
    a macro itself (the chain would expand some of those) and no other macro holds them
    (``{{datetimeformat [{{char}}]}}``): either sends the text down the full chain instead.
    """
    template = _plain_template(text)
    if template is None:
        return None
    literals, names = template
    values: dict[str, str] = {}
    parts = [literals[0]]
    for name, literal in zip(names, literals[1:], strict=True):
        value = values.get(name)
        if value is None:
            value = _simple_value(ctx, name)
            if value is None or "{{" in value:
                return None
            values[name] = value
        parts.append(value)
        parts.append(literal)
    return "".join(parts)


@functools.lru_cache(maxsize=4096)
def _plain_template(text: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """``text`` split into the literal runs between its macros and the macros' lower-cased
    names, or ``None`` when a macro holds another (or a ``{{`` is stray). Prompt parts
    repeat turn after turn, so each is split once."""
    pieces = _MACRO.split(text)
    literals, names = pieces[0::2], pieces[1::2]
    if any("{{" in literal for literal in literals):
        return None
    return tuple(literals), tuple(name.lower() for name in names)


_LEGACY_TAG = re.compile(r"<(?:user|bot|char|charifnotgroup|group)>", _I)


def has_macros(text: str) -> bool:
    """Whether evaluating ``text`` could change it (a ``{{`` or a legacy tag such as
    ``<USER>``: other ``<`` are left alone)."""
    return "{{" in text or ("<" in text and _LEGACY_TAG.search(text) is not None)


def _legacy(text: str, ctx: MacroContext) -> str:
    if _LEGACY_TAG.search(text) is None:
        return text  # most ``<`` are no tag: ``<START>``, HTML
    group = ctx.group if ctx.group is not None else ctx.char
    for tag, value in (("<USER>", ctx.user), ("<BOT>", ctx.char), ("<CHAR>", ctx.char)):
        text = _sub_const(re.escape(tag), value, text)
    for tag in ("<CHARIFNOTGROUP>", "<GROUP>"):
        text = re.sub(re.escape(tag), lambda _m: group, text, flags=_I)
    return text


def _sub_const(pattern: str, value: str, text: str) -> str:
    return re.sub(pattern, lambda _m: value, text, flags=_I)


def _sub_fn(pattern: str, fn: Callable[[], str], text: str) -> str:
    return re.sub(pattern, lambda _m: fn(), text, flags=_I)


def _roll(text: str, ctx: MacroContext) -> str:
    def roll(match: re.Match[str]) -> str:
        formula = match.group(1).strip().replace(" ", "")
        if formula.isdigit():
            formula = f"1d{formula}"
        parsed = re.fullmatch(r"([0-9]{0,6})d([0-9]{1,9})([+-][0-9]{1,9})?", formula, flags=_I)
        if not parsed or int(parsed.group(2)) < 1:
            return ""
        count = int(parsed.group(1) or 1)
        sides = int(parsed.group(2))
        total = sum(ctx.rng.randint(1, sides) for _ in range(min(count, 1000)))
        return str(total + int(parsed.group(3) or 0))

    return re.sub(r"{{roll[ :]([^}]+)}}", roll, text, flags=_I)


def _instruct_and_vars(text: str, ctx: MacroContext) -> str:
    return "\n".join(_vars_line(line, ctx) if "{{" in line else line for line in text.split("\n"))


def _vars_line(line: str, ctx: MacroContext) -> str:
    if "var::" not in line.lower():
        return line
    for scope, store in (("", ctx.variables), ("global", ctx.global_variables)):
        line = _var_ops(line, scope, store)
    return line


def _var_ops(line: str, scope: str, store: dict[str, str]) -> str:
    def setvar(m: re.Match[str]) -> str:
        store[m.group(1).strip()] = m.group(2)
        return ""

    def addvar(m: re.Match[str]) -> str:
        name, value = m.group(1).strip(), m.group(2)
        store[name] = _add(store.get(name, ""), value)
        return ""

    def step(delta: int) -> Callable[[re.Match[str]], str]:
        def apply(m: re.Match[str]) -> str:
            name = m.group(1).strip()
            store[name] = _add(store.get(name, "0"), str(delta))
            return store[name]

        return apply

    line = re.sub(
        rf"{{{{get{scope}var::([^}}]+)}}}}",
        lambda m: store.get(m.group(1).strip(), ""),
        line,
        flags=_I,
    )
    line = re.sub(rf"{{{{set{scope}var::([^:]+)::([^}}]+)}}}}", setvar, line, flags=_I)
    line = re.sub(rf"{{{{add{scope}var::([^:]+)::([^}}]+)}}}}", addvar, line, flags=_I)
    line = re.sub(rf"{{{{inc{scope}var::([^}}]+)}}}}", step(1), line, flags=_I)
    return re.sub(rf"{{{{dec{scope}var::([^}}]+)}}}}", step(-1), line, flags=_I)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _add(current: str, value: str) -> str:
    a, b = _number(current or "0"), _number(value)
    if a is None or b is None:
        return current + value
    total = a + b
    return str(int(total)) if total.is_integer() else str(total)


def _environment(text: str, ctx: MacroContext, original: str | None) -> str:
    group = ctx.group if ctx.group is not None else ctx.char
    env: dict[str, str | Callable[[], str]] = dict(ctx.extra)
    env.update(
        {
            "charPrompt": ctx.char_prompt,
            "charJailbreak": ctx.char_jailbreak,
            "description": ctx.description,
            "personality": ctx.personality,
            "scenario": ctx.scenario,
            "persona": ctx.persona,
            "mesExamples": ctx.mes_examples,
            "charVersion": ctx.char_version,
            "char_version": ctx.char_version,
        }
    )
    if original is not None:
        used = [False]

        def once() -> str:
            if used[0]:
                return ""
            used[0] = True
            return original

        env["original"] = once
    env.update({"user": ctx.user, "char": ctx.char, "group": group})
    env.update({"charIfNotGroup": group, "model": ctx.model})
    lowered = text.lower()
    for name, value in env.items():
        if "{{" not in text:
            break
        if "{{" + name.lower() + "}}" not in lowered:
            continue
        pattern = "{{" + re.escape(name) + "}}"
        if callable(value):
            text = _sub_fn(pattern, value, text)
        else:
            text = _sub_const(pattern, value, text)
        lowered = text.lower()
    return text


def _chat_state(text: str, ctx: MacroContext) -> str:
    last_id = "" if ctx.last_message_id is None else str(ctx.last_message_id)
    values = {
        "maxPrompt": "" if ctx.max_prompt is None else str(ctx.max_prompt),
        "lastMessage": ctx.last_message,
        "lastMessageId": last_id,
        "lastUserMessage": ctx.last_user_message,
        "lastCharMessage": ctx.last_char_message,
    }
    lowered = text.lower()
    for name, value in values.items():
        if "{{" + name.lower() + "}}" in lowered:
            text = _sub_const("{{" + name + "}}", value, text)
            lowered = text.lower()
    if "{{reverse:" not in lowered:
        return text
    return re.sub(r"{{reverse:(.+?)}}", lambda m: m.group(1)[::-1], text, flags=_I)


def _outlets(text: str, ctx: MacroContext) -> str:
    """``{{outlet::name}}``: the World Info entries placed in outlet ``name`` (or nothing)."""
    if "{{outlet::" not in text.lower():
        return text
    return re.sub(
        r"{{outlet::(.+?)}}", lambda m: ctx.outlets.get(m.group(1).strip(), ""), text, flags=_I
    )


_TIME_WORDS = ("{{time", "{{date", "{{weekday", "{{isotime", "{{isodate", "{{idle_duration")


def _time(text: str, ctx: MacroContext) -> str:
    """The time macros (SillyTavern's ``{{time}}`` ... ``{{timeDiff::a::b}}``)."""
    lowered = text.lower()
    if not any(word in lowered for word in _TIME_WORDS):
        return text
    return substitute_time(text, ctx.clock(), ctx.idle_since)


def _banned(text: str, ctx: MacroContext) -> str:
    """Drop each ``{{banned "word"}}``, adding the word to ``ctx.banned_words``.

    SillyTavern's pattern, greedy ``(.*)`` included: two on one line make one odd word.
    """
    if "{{banned" not in text.lower():
        return text

    def ban(m: re.Match[str]) -> str:
        ctx.banned_words.append(m[1])
        return ""

    return re.sub(r'{{banned "(.*)"}}', ban, text, flags=_I)


def _choices(list_string: str) -> list[str]:
    if "::" in list_string:
        return list_string.split("::")
    marker = "\x00COMMA\x00"
    parts = list_string.replace("\\,", marker).split(",")
    return [p.strip().replace(marker, ",") for p in parts]


def _random(text: str, ctx: MacroContext) -> str:
    def pick(m: re.Match[str]) -> str:
        items = _choices(m.group(1))
        return items[ctx.rng.randrange(len(items))]

    return re.sub(r"{{random\s?::?([^}]+)}}", pick, text, flags=_I)


def _pick(text: str, ctx: MacroContext, raw: str) -> str:
    raw_hash = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]

    def pick(m: re.Match[str]) -> str:
        items = _choices(m.group(1))
        seed = f"{ctx.chat_id}-{raw_hash}-{m.start()}"
        rng = random.Random(int(hashlib.sha256(seed.encode("utf-8")).hexdigest()[:16], 16))
        return items[rng.randrange(len(items))]

    return re.sub(r"{{pick\s?::?([^}]+)}}", pick, text, flags=_I)


def replace_names(text: str, user: str, char: str) -> str:
    """A fast substitution of only ``{{user}}``, ``{{char}}`` and the legacy tags."""
    if "{{" not in text and "<" not in text:
        return text
    text = re.sub(r"{{user}}|<USER>", lambda _m: user, text, flags=_I)
    return re.sub(r"{{char}}|<BOT>|<CHAR>", lambda _m: char, text, flags=_I)
