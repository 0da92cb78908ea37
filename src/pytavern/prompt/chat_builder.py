"""Chat Completion prompts: SillyTavern's prompt manager, budgeted newest-first."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from pytavern.errors import ConfigError
from pytavern.prompt.common import BEFORE_PROMPT, IN_PROMPT, Prepared, depth_injections, prepare
from pytavern.prompt.examples import split_blocks, split_turns
from pytavern.prompt.inputs import (
    Breakdown,
    BuiltPrompt,
    HistoryMessage,
    PromptInput,
    PromptItem,
    PromptPart,
)
from pytavern.prompt.macros import evaluate, has_macros
from pytavern.prompt.tokens import Tokenizer, counts_key
from pytavern.types import ChatMessage, Role

_ROLES: tuple[Role, Role, Role] = ("system", "user", "assistant")
WI_MESSAGE_OVERHEAD = 6
"""What SillyTavern adds to each World Info budget count in chat completion: it counts the
text as one ``{"role": "system", "content": text}`` message (3 per message, 1 for the role,
3 of reply priming, less its starting -1)."""


@dataclass(slots=True)
class _Budget:
    tokenizer: Tokenizer
    limit: int
    used: int = 3  # every reply is primed with the assistant header

    def cost(self, msg: ChatMessage) -> int:
        name = self.tokenizer.count(msg.name) + 1 if msg.name else 0
        return self.tokenizer.count(msg.content) + 3 + name

    def fits(self, cost: int) -> bool:
        return self.used + cost <= self.limit


@dataclass(slots=True)
class _Parts:
    by_id: dict[str, list[ChatMessage]] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)


def build_chat(inp: PromptInput) -> BuiltPrompt:
    """Build a Chat Completion message list following SillyTavern's prompt manager."""
    p = prepare(inp, WI_MESSAGE_OVERHEAD)
    s = inp.settings
    budget = _Budget(inp.tokenizer, s.context_size - s.max_reply_tokens)
    parts = _fixed_parts(inp, p, budget)
    control = _control(inp, p)
    reserved = sum(budget.cost(m) for m in control)
    budget.used += reserved
    history = _history(inp, p, budget)
    parts.by_id["chatHistory"] = history.messages
    examples = _examples(inp, p, budget)
    parts.by_id["dialogueExamples"] = examples.messages
    messages = [m for item in _order(inp) for m in parts.by_id.get(item.identifier, [])]
    messages.extend(control)
    prefill = _continue_prefill(inp, p, messages)
    if s.chat.squash_system_messages:
        markers = {p.sub(s.chat.new_chat_prompt), p.sub(s.chat.new_example_chat_prompt)}
        messages = _squash(messages, markers)
    filler = budget.cost(history.filler) if history.filler else 0
    parts.tokens["chatHistory"] = history.tokens + filler
    parts.tokens["dialogueExamples"] = examples.tokens
    breakdown = Breakdown(
        parts=tuple(PromptPart(k, v) for k, v in parts.tokens.items() if v),
        budget=budget.limit,
        total_tokens=budget.used,
        history_included=history.included,
        history_total=p.view.chat_length,
        examples_included=examples.included,
        examples_total=examples.total,
        lore=p.lore.activated,
        lore_skipped=p.lore.skipped,
        cut=tuple(history.cut),
    )
    return BuiltPrompt(tuple(messages), None, [], prefill, breakdown, p.lore.timed_state)


def _order(inp: PromptInput) -> list[PromptItem]:
    return [i for i in inp.settings.chat.prompt_order if i.enabled or i.identifier == "main"]


def _content(inp: PromptInput, p: Prepared, item: PromptItem) -> str:
    """The text of one prompt-order item; only that item's macros are evaluated (a build
    asks for each item once, so ``{{incvar}}`` or ``{{roll}}`` in it act once)."""
    make = _BUILTIN.get(item.identifier)
    return make(inp, p, item) if make is not None else p.sub(item.content or "")


def _main(inp: PromptInput, p: Prepared, item: PromptItem) -> str:
    text = inp.settings.chat.main_prompt if item.content is None else item.content
    if p.card_system and inp.settings.prefer_character_prompt and not item.forbid_overrides:
        return evaluate(p.card_system, p.macros, original=text)
    return p.sub(text)


def _jailbreak(inp: PromptInput, p: Prepared, item: PromptItem) -> str:
    c, s = inp.settings.chat, inp.settings
    text = c.post_history_instructions if item.content is None else item.content
    if p.card_jailbreak and s.prefer_character_jailbreak and not item.forbid_overrides:
        return evaluate(p.card_jailbreak, p.macros, original=text)
    return p.sub(text)


def _personality(inp: PromptInput, p: Prepared, _item: PromptItem) -> str:
    return p.sub(inp.settings.chat.personality_format) if p.personality else ""


def _scenario(inp: PromptInput, p: Prepared, _item: PromptItem) -> str:
    return p.sub(inp.settings.chat.scenario_format) if p.scenario else ""


def _persona(inp: PromptInput, p: Prepared, _item: PromptItem) -> str:
    return p.persona if inp.persona.position == IN_PROMPT else ""


def _nsfw(inp: PromptInput, p: Prepared, item: PromptItem) -> str:
    return p.sub(inp.settings.chat.nsfw_prompt if item.content is None else item.content)


def _enhance(inp: PromptInput, p: Prepared, item: PromptItem) -> str:
    c = inp.settings.chat
    return p.sub(c.enhance_definitions if item.content is None else item.content)


_BUILTIN: dict[str, Callable[[PromptInput, Prepared, PromptItem], str]] = {
    "main": _main,
    "jailbreak": _jailbreak,
    "worldInfoBefore": lambda inp, p, _i: _wi(inp.settings.chat.wi_format, p.lore.before),
    "worldInfoAfter": lambda inp, p, _i: _wi(inp.settings.chat.wi_format, p.lore.after),
    "charDescription": lambda _inp, p, _i: p.description,
    "charPersonality": _personality,
    "scenario": _scenario,
    "personaDescription": _persona,
    "nsfw": _nsfw,
    "enhanceDefinitions": _enhance,
}
"""How each built-in item's text is made, by identifier (custom items: their content)."""


def _wi(fmt: str, text: str) -> str:
    if not text:
        return ""
    return fmt.replace("{0}", text) if fmt.strip() else text


def _fixed_parts(inp: PromptInput, p: Prepared, budget: _Budget) -> _Parts:
    parts = _Parts()
    for item in _order(inp):
        if item.identifier in ("chatHistory", "dialogueExamples") or item.injection_position == 1:
            continue
        content = _content(inp, p, item)
        msgs = [ChatMessage(item.role or "system", content)] if content else []
        if item.identifier == "main":
            msgs = _with_anchors(p, msgs)
        parts.by_id[item.identifier] = msgs
        parts.tokens[item.identifier] = sum(budget.cost(m) for m in msgs)
        budget.used += parts.tokens[item.identifier]
    if budget.used > budget.limit:
        raise ConfigError(
            f"the prompt's fixed parts need {budget.used} tokens but only {budget.limit} fit "
            "(context size minus reply length)",
            hint="Raise the context size, lower the reply length, or shorten the card, "
            "persona or lore.",
        )
    return parts


def _with_anchors(p: Prepared, msgs: list[ChatMessage]) -> list[ChatMessage]:
    before = [ChatMessage(_ROLES[e.role], e.text) for e in p.ext if e.position == BEFORE_PROMPT]
    after = [ChatMessage(_ROLES[e.role], e.text) for e in p.ext if e.position == IN_PROMPT]
    return [m for m in (*before, *msgs, *after) if m.content]


def _control(inp: PromptInput, p: Prepared) -> list[ChatMessage]:
    """The instruction after the history: impersonation's, or a quiet generation's."""
    if inp.generation_type == "impersonate" and inp.settings.chat.impersonation_prompt:
        return [ChatMessage("system", p.sub(inp.settings.chat.impersonation_prompt))]
    if inp.generation_type == "quiet" and inp.quiet_prompt.strip():
        return [ChatMessage("system", p.sub(inp.quiet_prompt))]
    return []


def _absolute(inp: PromptInput, p: Prepared) -> dict[int, list[ChatMessage]]:
    ext = depth_injections(p.ext, continuing=False)
    out: dict[int, list[ChatMessage]] = {}
    absolute = [i for i in _order(inp) if i.injection_position == 1]
    for depth in sorted({*ext, *(i.injection_depth for i in absolute)}):
        for role_index, role in enumerate(_ROLES):
            own = [
                _content(inp, p, i)
                for i in absolute
                if i.injection_depth == depth and (i.role or "system") == role
            ]
            extension = [t for r, t in ext.get(depth, []) if r == role_index]
            joint = "\n".join(x.strip() for x in (*own, *extension) if x)
            if joint:
                out.setdefault(depth, []).append(ChatMessage(role, joint))
    return out


def _to_message(inp: PromptInput, p: Prepared, msg: HistoryMessage) -> ChatMessage:
    role: Role = "system" if msg.is_narrator else "user" if msg.is_user else "assistant"
    content = msg.text.replace("\r", "")
    if has_macros(content):
        content = p.sub(content)
    nb = inp.settings.chat.names_behavior
    name = None
    forced = nb == 0 and msg.force_avatar and msg.name != p.user
    if (forced or nb == 2) and not msg.is_narrator:
        content = f"{msg.name}: {content}"
    elif nb == 1 and msg.name:
        name = msg.name if re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", msg.name) else _sanitize(msg.name)
    return ChatMessage(role, content, name)


def _sanitize(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_-]", "_", name)[:64]


@dataclass(slots=True)
class _Converter:
    """History messages as the prompt sends them, and their costs, kept in each message's
    memo (``HistoryMessage.memo``) for the next builds: a chat's cached messages are the
    same objects turn after turn, so a turn converts and counts only its new messages.

    A memo is used when it was made with this build's ``key``: the names behaviour and the
    user's name (all a message's conversion depends on besides the message itself, unless
    its text holds macros: those are converted on every build) and the tokenizer's
    ``counts_key`` (a count is kept only when the tokenizer's counts never change).
    """

    inp: PromptInput
    p: Prepared
    budget: _Budget
    key: tuple[int, str, Hashable | None]

    @classmethod
    def of(cls, inp: PromptInput, p: Prepared, budget: _Budget) -> _Converter:
        """The converter of one build."""
        key = (inp.settings.chat.names_behavior, p.user, counts_key(inp.tokenizer))
        return cls(inp, p, budget, key)

    def pair(self, msg: HistoryMessage) -> tuple[ChatMessage, int]:
        """``msg`` as the prompt sends it, and its cost (one memo lookup for both)."""
        entry = msg.memo.entry
        if entry is not None and entry[0] == self.key:
            converted, cost = entry[1], entry[2]
            if cost is not None:
                return converted, cost
        else:
            converted = _to_message(self.inp, self.p, msg)
            if has_macros(msg.text.replace("\r", "")):
                return converted, self.budget.cost(converted)
        cost = self.budget.cost(converted)
        msg.memo.entry = (self.key, converted, cost if self.key[2] is not None else None)
        return converted, cost


def _newest_first(
    p: Prepared, injections: dict[int, list[ChatMessage]]
) -> Iterator[ChatMessage | HistoryMessage]:
    """History newest-first with in-chat injections (the messages they are, as sent)."""
    for real, (_, msg) in enumerate(p.view):
        yield from injections.pop(real, ())
        yield msg
    for depth in sorted(injections):
        yield from injections[depth]


class _Walk(NamedTuple):
    """What the history walk took: messages newest first while the budget allowed."""

    picked: list[ChatMessage]
    included: int
    """Chat messages in ``picked`` (injections aside)."""
    tokens: int
    """What ``picked`` cost."""
    cut: bool
    """Whether a message did not fit (older ones were left out)."""


def _walk_plain(p: Prepared, convert: _Converter) -> _Walk:
    """The common walk: chat messages only (no injections, no message skipped)."""
    budget, key, pair = convert.budget, convert.key, convert.pair
    picked: list[ChatMessage] = []
    tokens = 0
    for _, msg in p.view:
        entry = msg.memo.entry
        if entry is not None and entry[0] == key and entry[2] is not None:
            converted, cost = entry[1], entry[2]
        else:
            converted, cost = pair(msg)
        if budget.used + cost > budget.limit:
            return _Walk(picked, len(picked), tokens, True)
        budget.used += cost
        tokens += cost
        picked.append(converted)
    return _Walk(picked, len(picked), tokens, False)


def _walk_mixed(
    p: Prepared,
    convert: _Converter,
    injections: dict[int, list[ChatMessage]],
    skip_prefill: bool,
) -> _Walk:
    """The walk with in-chat injections, or skipping the newest message (it is the
    continue prefill; converted all the same, as it always was)."""
    budget = convert.budget
    picked: list[ChatMessage] = []
    included = tokens = 0
    for step in _newest_first(p, injections):
        if isinstance(step, ChatMessage):
            msg, cost, real = step, budget.cost(step), 0
        elif skip_prefill:
            skip_prefill = False
            _to_message(convert.inp, p, step)  # not sent, but its macros act, as they did
            continue
        else:
            (msg, cost), real = convert.pair(step), 1
        if not budget.fits(cost):
            return _Walk(picked, included, tokens, True)
        budget.used += cost
        tokens += cost
        picked.append(msg)
        included += real
    return _Walk(picked, included, tokens, False)


class _History(NamedTuple):
    messages: list[ChatMessage]
    cut: list[str]
    included: int
    """Chat messages in ``messages`` (injections and markers aside)."""
    tokens: int
    """What ``messages`` cost, but ``filler``."""
    filler: ChatMessage | None
    """The ``send_if_empty`` message when it was added (not taken from the budget; counted
    after the examples, as it always was, so estimated texts are noted in the same order)."""


def _history(inp: PromptInput, p: Prepared, budget: _Budget) -> _History:
    """The history part, newest messages first until the budget is spent."""
    c = inp.settings.chat
    new_chat = ChatMessage("system", p.sub(c.new_chat_prompt))
    nudge = _nudge(inp, p)
    head = [new_chat] if new_chat.content else []
    new_chat_cost, nudge_cost = budget.cost(new_chat), budget.cost(nudge) if nudge else 0
    budget.used += new_chat_cost + nudge_cost
    tokens = (new_chat_cost if head else 0) + nudge_cost
    convert = _Converter.of(inp, p, budget)
    injections = _absolute(inp, p)
    skip_prefill = inp.generation_type == "continue" and c.continue_prefill
    if injections or skip_prefill:
        walk = _walk_mixed(p, convert, injections, skip_prefill)
    else:
        walk = _walk_plain(p, convert)
    picked, included = walk.picked, walk.included
    tokens += walk.tokens
    cut = ["older chat history"] if walk.cut else []
    picked.reverse()
    filler = None
    if c.send_if_empty and picked and picked[-1].role == "assistant":
        filler = ChatMessage("user", c.send_if_empty)
        picked.append(filler)
    return _History(head + picked + ([nudge] if nudge else []), cut, included, tokens, filler)


def _nudge(inp: PromptInput, p: Prepared) -> ChatMessage | None:
    c = inp.settings.chat
    if inp.generation_type != "continue" or c.continue_prefill:
        return None
    last = p.view.get(0)
    if last is None:
        return None
    text = evaluate(
        c.continue_nudge_prompt.replace("{{lastChatMessage}}", last[1].text.strip()), p.macros
    )
    return ChatMessage("system", text)


def _continue_prefill(inp: PromptInput, p: Prepared, messages: list[ChatMessage]) -> str | None:
    c = inp.settings.chat
    if inp.generation_type == "continue" and c.continue_prefill:
        last = p.view.get(0)
        if last is not None:
            messages.append(ChatMessage("assistant", last[1].text + c.continue_postfix))
        return None
    if inp.generation_type == "quiet":
        return None  # a summary is not the character's reply: no reply prefill
    prefill = (
        c.assistant_impersonation if inp.generation_type == "impersonate" else c.assistant_prefill
    )
    return p.sub(prefill) or None


class _Examples(NamedTuple):
    messages: list[ChatMessage]
    included: int
    """Blocks that fit."""
    total: int
    """Blocks there were."""
    tokens: int


def _examples(inp: PromptInput, p: Prepared, budget: _Budget) -> _Examples:
    """The example dialogue: each block under its header, as far as the budget allows."""
    blocks = [
        *[b for t in p.lore.examples_top for b in split_blocks(p.sub(t), "<START>\n")],
        *split_blocks(p.mes_examples, "<START>\n"),
        *[b for t in p.lore.examples_bottom for b in split_blocks(p.sub(t), "<START>\n")],
    ]
    header = ChatMessage("system", p.sub(inp.settings.chat.new_example_chat_prompt))
    out: list[ChatMessage] = []
    added_blocks = tokens = 0
    for block in blocks:
        chunk, cost = _example_block(budget, header, _block_messages(block, p.user, p.char))
        if len(chunk) > 1 or (chunk and chunk[0] is not header):
            out.extend(chunk)
            added_blocks += 1
            tokens += cost
        elif chunk:
            budget.used -= cost
    return _Examples(out, added_blocks, len(blocks), tokens)


def _example_block(
    budget: _Budget, header: ChatMessage, turns: tuple[ChatMessage, ...]
) -> tuple[list[ChatMessage], int]:
    """The header and the turns of one block that fit (taken from the budget), and their
    cost."""
    chunk: list[ChatMessage] = []
    used = 0
    header_cost = budget.cost(header)
    if budget.fits(header_cost):
        chunk.append(header)
        budget.used += header_cost
        used += header_cost
    for msg in turns:
        cost = budget.cost(msg)
        if not budget.fits(cost):
            break
        budget.used += cost
        used += cost
        chunk.append(msg)
    return chunk, used


@functools.lru_cache(maxsize=256)
def _block_messages(block: str, user: str, char: str) -> tuple[ChatMessage, ...]:
    """One example block's turns as messages (a card's blocks come again every turn)."""
    return tuple(ChatMessage("system", t.content, t.name) for t in split_turns(block, user, char))


def _squash(messages: list[ChatMessage], markers: set[str]) -> list[ChatMessage]:
    """Merge runs of unnamed system messages (chat/example markers stay on their own)."""
    out: list[ChatMessage] = []
    for m in messages:
        prev = out[-1] if out else None
        plain = prev and not m.name and not prev.name
        apart = m.content in markers or (prev and prev.content in markers)
        if prev and plain and not apart and m.role == prev.role == "system":
            out[-1] = ChatMessage("system", f"{prev.content}\n{m.content}")
        else:
            out.append(m)
    return out
