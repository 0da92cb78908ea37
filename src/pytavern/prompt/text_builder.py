"""Text Completion prompts: story string, examples, chat start, history, last line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pytavern.prompt import instruct as ins
from pytavern.prompt.common import (
    BEFORE_PROMPT,
    IN_PROMPT,
    Prepared,
    anchor,
    depth_injections,
    prepare,
)
from pytavern.prompt.examples import split_blocks
from pytavern.prompt.inputs import Breakdown, BuiltPrompt, HistoryMessage, PromptInput, PromptPart
from pytavern.prompt.macros import evaluate
from pytavern.prompt.story import render


@dataclass(frozen=True, slots=True)
class _Item:
    """One chat line: the message and whether it is an injection."""

    msg: HistoryMessage
    index: int
    injected: bool


@dataclass(slots=True)
class _Pieces:
    """The parts of a text prompt, in order, and the tokens spent so far."""

    before: str
    story: str
    after: str
    chat_start: str
    examples: list[str]
    cycle: _Item | None
    cycle_text: str
    align: str
    used: int = 0
    history_tokens: int = 0
    history_count: int = 0
    example_text: str = ""
    example_count: int = 0
    cut: list[str] = field(default_factory=list)


def build_text(inp: PromptInput) -> BuiltPrompt:
    """Build a Text Completion prompt the way SillyTavern's ``Generate`` does."""
    p = prepare(inp)
    t = inp.settings.text
    limit = inp.settings.context_size - inp.settings.max_reply_tokens
    continuing = inp.generation_type == "continue"
    impersonate = inp.generation_type == "impersonate"
    pieces = _pieces(inp, p, continuing)
    pinned = "".join(pieces.examples) if t.pin_examples else ""
    fixed = pieces.before + pieces.story + pieces.after + pinned + pieces.align
    fixed += pieces.chat_start + _last_line(inp, p, impersonate, continuing, "") + pieces.cycle_text
    pieces.used = inp.tokenizer.count(fixed.replace("\r", "")) + t.token_padding
    chosen = _fit_history(inp, p, pieces, limit)
    _fit_examples(inp, pieces, limit, pinned)
    if not continuing and (t.instruct is None or t.instruct.wrap):
        chosen[-1] = re.sub(r"\n?$", "", chosen[-1], count=1)
    chosen[-1] = _last_line(inp, p, impersonate, continuing, chosen[-1])
    if pieces.cycle and p.view.chat_length > 1:
        pieces.cycle_text = _cleanup_cycle(p, pieces.cycle_text, t.instruct is not None)
    body = pieces.chat_start + "".join(chosen) + pieces.cycle_text
    text = (pieces.before + pieces.story + pieces.after + pieces.example_text + body).replace(
        "\r", ""
    )
    stop = ins.stopping_strings(
        t.instruct,
        t.context,
        user=p.user,
        char=p.char,
        impersonate=impersonate,
        continue_on_user=continuing and pieces.cycle is not None and pieces.cycle.msg.is_user,
        custom=t.custom_stop,
    )
    breakdown = _breakdown(inp, p, pieces, limit)
    return BuiltPrompt((), text, stop, None, breakdown, p.lore.timed_state)


def _pieces(inp: PromptInput, p: Prepared, continuing: bool) -> _Pieces:
    t = inp.settings.text
    examples = _examples(inp, p)
    cycle = _cycle(p, continuing)
    return _Pieces(
        before=anchor(p.ext, BEFORE_PROMPT).lstrip(),
        story=_story(inp, p, examples),
        after=anchor(p.ext, IN_PROMPT),
        chat_start=p.sub(t.context.chat_start + "\n") if t.context.chat_start else "",
        examples=examples,
        cycle=cycle,
        cycle_text=_format(inp, p, cycle, "last", cut_after=True) if cycle else "",
        align=_alignment(inp, p),
    )


def _fit_history(inp: PromptInput, p: Prepared, pieces: _Pieces, limit: int) -> list[str]:
    start = pieces.used
    chosen, used, count, starts_user, cut = _history(
        inp, p, pieces.cycle, _oldest_index(inp), pieces.used, limit
    )
    pieces.history_tokens, pieces.history_count, pieces.used = used - start, count, used
    pieces.cut.extend(cut)
    if pieces.align and not starts_user:
        chosen.insert(0, pieces.align)
        pieces.used += inp.tokenizer.count(pieces.align)
    return chosen or [""]


def _fit_examples(inp: PromptInput, pieces: _Pieces, limit: int, pinned: str) -> None:
    pieces.example_text = pinned
    if inp.settings.text.pin_examples:
        pieces.example_count = len(pieces.examples)
        return
    for block in pieces.examples:
        cost = inp.tokenizer.count(block.replace("\r", ""))
        if pieces.used + cost >= limit:
            pieces.cut.append("example dialogue")
            return
        pieces.used += cost
        pieces.example_text += block
        pieces.example_count += 1


def _breakdown(inp: PromptInput, p: Prepared, pieces: _Pieces, limit: int) -> Breakdown:
    tok = inp.tokenizer
    parts = (
        PromptPart("storyString", tok.count(pieces.story)),
        PromptPart("anchors", tok.count(pieces.before + pieces.after)),
        PromptPart("examples", tok.count(pieces.example_text)),
        PromptPart(
            "chatHistory",
            pieces.history_tokens + tok.count(pieces.chat_start + pieces.cycle_text),
        ),
    )
    return Breakdown(
        parts=tuple(x for x in parts if x.tokens),
        budget=limit,
        total_tokens=pieces.used - inp.settings.text.token_padding,
        history_included=pieces.history_count + (1 if pieces.cycle else 0),
        history_total=p.view.chat_length,
        examples_included=pieces.example_count,
        examples_total=len(pieces.examples),
        lore=p.lore.activated,
        lore_skipped=p.lore.skipped,
        cut=tuple(pieces.cut),
    )


def _system(inp: PromptInput, p: Prepared) -> str:
    s = inp.settings
    if s.system_prompt is None:
        return ""
    if s.prefer_character_prompt and p.card_system:  # the card's replaces it: one evaluation
        system = evaluate(p.card_system, p.macros, original=s.system_prompt)
    else:
        system = evaluate(s.system_prompt, p.macros) if s.system_prompt else ""
    it = s.text.instruct
    return ins.format_system_prompt(it, system) if it is not None else system


def _examples(inp: PromptInput, p: Prepared) -> list[str]:
    t = inp.settings.text
    sep = p.sub(t.context.example_separator)
    heading = f"{sep}\n" if sep else ("<START>\n" if t.instruct else "")
    blocks = split_blocks(p.mes_examples, heading)
    top = [b for e in p.lore.examples_top for b in split_blocks(p.sub(e), heading)]
    bottom = [b for e in p.lore.examples_bottom for b in split_blocks(p.sub(e), heading)]
    blocks = top + blocks + bottom
    if t.instruct is not None:
        return ins.format_examples(
            t.instruct, blocks, user=p.user, char=p.char, example_separator=sep
        )
    return blocks


def _story(inp: PromptInput, p: Prepared, examples: list[str]) -> str:
    t = inp.settings.text
    persona = p.persona if inp.persona.position == IN_PROMPT else ""
    params = {
        "description": p.description,
        "personality": p.personality,
        "persona": persona,
        "scenario": p.scenario,
        "system": _system(inp, p),
        "char": p.char,
        "user": p.user,
        "wiBefore": p.lore.before,
        "wiAfter": p.lore.after,
        "loreBefore": p.lore.before,
        "loreAfter": p.lore.after,
        "mesExamples": "".join(examples),
        "mesExamplesRaw": p.mes_examples,
    }
    out = p.sub(render(t.context.story_string, params))
    out = out.lstrip("\n")
    if out and not out.endswith("\n") and (t.instruct is None or t.instruct.wrap):
        out += "\n"
    return out


def _history(
    inp: PromptInput, p: Prepared, cycle: _Item | None, oldest: int, used: int, limit: int
) -> tuple[list[str], int, int, bool, list[str]]:
    """Walk the history newest-first; in-chat injections are paid for first and always kept."""
    tok = inp.tokenizer
    pending = _injections(inp, p)
    used += sum(tok.count(x) for xs in pending.values() for x in xs)
    newest: list[str] = []
    cut: list[str] = []
    count, starts_user, seen_user = 0, False, False
    jailbreak = _jailbreak(inp, p)
    if jailbreak:
        newest.append(jailbreak)
        used += tok.count(jailbreak)
        seen_user = True
    skip = 1 if cycle is not None else 0
    for real, (index, msg) in enumerate(p.view):
        if real < skip:
            continue
        newest.extend(pending.pop(real - skip, []))
        force: ins.Force = "last" if msg.is_user and not seen_user else None
        seen_user = seen_user or msg.is_user
        force = force or ("first" if index == oldest else None)
        text = _format(inp, p, _Item(msg, index, False), force)
        cost = tok.count(text.replace("\r", ""))
        if used + cost >= limit:
            cut.append("older chat history")
            break
        used += cost
        newest.append(text)
        count += 1
        starts_user = msg.is_user
    for depth in sorted(pending):
        newest.extend(pending[depth])
    newest.reverse()
    return newest, used, count, starts_user, cut


def _jailbreak(inp: PromptInput, p: Prepared) -> str:
    """The card's post-history instructions as the last user turn, when the context allows."""
    s = inp.settings
    if not (s.text.context.allow_jailbreak and s.prefer_character_jailbreak and p.card_jailbreak):
        return ""
    text = evaluate(p.card_jailbreak, p.macros, original="")
    msg = HistoryMessage(is_user=True, name="", text=text)
    return _format(inp, p, _Item(msg, -1, False), "last")


def _injections(inp: PromptInput, p: Prepared) -> dict[int, list[str]]:
    """Formatted in-chat injections by depth (system, user, assistant order)."""
    names = {0: "", 1: p.user, 2: p.char}
    out: dict[int, list[str]] = {}
    for depth, items in depth_injections(p.ext, inp.generation_type == "continue").items():
        for role, text in items:
            msg = HistoryMessage(role == 1, names[role], text, is_narrator=role == 0)
            out.setdefault(depth, []).append(_format(inp, p, _Item(msg, -1, True), None))
    return out


def _cycle(p: Prepared, continuing: bool) -> _Item | None:
    if not continuing:
        return None
    newest = p.view.get(0)
    return _Item(newest[1], newest[0], False) if newest else None


def _oldest_index(inp: PromptInput) -> int:
    for i in range(len(inp.history)):
        if not inp.history[i].is_system:
            return i
    return -1


def _format(
    inp: PromptInput, p: Prepared, item: _Item, force: ins.Force, cut_after: bool = False
) -> str:
    msg = item.msg
    text = p.sub(msg.text) if item.index == 0 and "{{" in msg.text else msg.text
    it = inp.settings.text.instruct
    name = msg.name if msg.is_user else (msg.name or p.char)
    if it is None:
        out = f"{name}: {text}\n" if msg.name and not msg.is_narrator else f"{text}\n"
    else:
        out = ins.format_chat(
            it,
            name=name,
            text=text,
            is_user=msg.is_user,
            user=p.user,
            char=p.char,
            is_narrator=msg.is_narrator,
            force=force,
            force_names=msg.force_avatar,
        )
    if cut_after:
        out = out[: out.rfind(text) + len(text)]
    return out


def _alignment(inp: PromptInput, p: Prepared) -> str:
    it = inp.settings.text.instruct
    if it is None or not it.user_alignment_message:
        return ""
    msg = HistoryMessage(is_user=True, name=p.user, text=it.user_alignment_message)
    return _format(inp, p, _Item(msg, -1, False), "first")


def _last_line(
    inp: PromptInput, p: Prepared, impersonate: bool, continuing: bool, line: str
) -> str:
    t = inp.settings.text
    it = t.instruct
    if inp.generation_type == "quiet":
        return _quiet_line(inp, p, line)
    if it is not None and not continuing:
        name = p.user if impersonate else p.char
        return line + ins.format_last_line(
            it, name, user=p.user, char=p.char, impersonate=impersonate
        )
    if it is None and impersonate and not continuing:
        return (line if line.endswith("\n") else line + "\n") + f"{p.user}:"
    if it is None and t.context.always_force_name2 and not impersonate:
        if continuing and p.view.chat_length <= 1:
            return line
        line = line if line.endswith("\n") else line + "\n"
        last = p.view.get(0)
        if not continuing or not (last and last[1].is_user):
            line += f"{p.char}:"
    return line


def _quiet_line(inp: PromptInput, p: Prepared, line: str) -> str:
    """A quiet generation's ending: its instruction as a system line after the history,
    then (instruct) the reply's sequence with no name (SillyTavern's quiet prompt)."""
    line = line if not line or line.endswith("\n") else line + "\n"
    text = p.sub(inp.quiet_prompt).strip()
    if text:
        msg = HistoryMessage(False, "", text, is_narrator=True)
        line += _format(inp, p, _Item(msg, -1, True), None)
    it = inp.settings.text.instruct
    if it is None:
        return line
    return line.removesuffix("\n") + ins.format_last_line(it, "", user=p.user, char=p.char)


def _cleanup_cycle(p: Prepared, text: str, instruct: bool) -> str:
    if text.lstrip().startswith(f"{p.char}:"):
        text = text.replace(f"{p.char}:", "", 1).lstrip()
    if not instruct and not re.match(r"\s", text):
        text = " " + text
    return text
