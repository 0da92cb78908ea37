"""Steps shared by the chat and text builders: card fields, history view, lore, injections."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol, cast

from pytavern.prompt.inputs import AuthorsNote, HistoryMessage, PromptInput, Recall
from pytavern.prompt.macros import (
    MacroContext,
    evaluate,
    evaluate_in_order,
    evaluate_plain,
    replaced,
)
from pytavern.prompt.worldinfo import ROLES, WorldInfoResult, check_world_info

IN_PROMPT, IN_CHAT, BEFORE_PROMPT = 0, 1, 2
PLACED = (IN_PROMPT, IN_CHAT, BEFORE_PROMPT)
"""The positions that put an extension prompt somewhere (any other: nowhere)."""


class WalksBack(Protocol):
    """A history that walks itself newest-first faster than indexing message by message."""

    def walk_back(self, index: int) -> Iterator[tuple[int, HistoryMessage]]:
        """``(i, self[i])`` for ``i`` from ``index`` down to 0, read as lazily as indexing."""
        ...


def _walk_back(
    history: Sequence[HistoryMessage], index: int
) -> Iterator[tuple[int, HistoryMessage]]:
    """``(i, history[i])`` for ``i`` from ``index`` down to 0, read one at a time."""
    if hasattr(history, "walk_back"):  # a stored chat (``StoredHistory``)
        return cast(WalksBack, history).walk_back(index)
    return ((i, history[i]) for i in range(index, -1, -1))


class NewestFirst:
    """A lazy newest-first view of the visible history (hidden messages skipped).

    Only walks as far back as callers index, so a 100,000-message chat costs what is read.
    """

    def __init__(self, history: Sequence[HistoryMessage], drop_last_reply: bool) -> None:
        self._history = history
        self._end = len(history)
        if drop_last_reply and self._end and not history[self._end - 1].is_user:
            self._end -= 1
        self._seen: list[tuple[int, HistoryMessage]] = []
        self._source = _walk_back(history, self._end - 1)

    def _fill(self, count: int) -> None:
        seen = self._seen
        while len(seen) < count:
            item = next(self._source, None)
            if item is None:
                return
            if not item[1].is_system:
                seen.append(item)

    def get(self, i: int) -> tuple[int, HistoryMessage] | None:
        """The ``i``-th newest visible message with its chat index, or ``None``."""
        if i >= len(self._seen):
            self._fill(i + 1)
            if i >= len(self._seen):
                return None
        return self._seen[i]

    def __iter__(self) -> Iterator[tuple[int, HistoryMessage]]:
        seen, source = self._seen, self._source
        i = 0
        while True:
            while i == len(seen):  # _fill(i + 1) inline: read no further than asked
                item = next(source, None)
                if item is None:
                    return
                if not item[1].is_system:
                    seen.append(item)
            yield seen[i]
            i += 1

    @property
    def chat_length(self) -> int:
        """Messages in the chat up to the one being answered (hidden ones included)."""
        return self._end


class ScanView(Sequence[str]):
    """What World Info scans: newest-first message texts, optionally ``Name: text``."""

    def __init__(self, view: NewestFirst, include_names: bool) -> None:
        self._view = view
        self._names = include_names

    def __getitem__(self, i: int) -> str:  # type: ignore[override]
        item = self._view.get(i)
        if item is None:
            raise IndexError(i)
        msg = item[1]
        return f"{msg.name}: {msg.text}" if self._names else msg.text

    def __len__(self) -> int:
        return self._view.chat_length


@dataclass(frozen=True, slots=True)
class ExtPrompt:
    """A prompt injected outside the prompt manager order (SillyTavern's extension prompts)."""

    key: str
    position: int
    depth: int
    role: int
    text: str


class Substitution:
    """Macros substituted in one build's context (``Prepared.sub``); a text whose macros are
    all plain values is evaluated once per build (prompt parts are asked for again and
    again), any other every time it is asked for, as its macros may change the context
    (``{{setvar}}``, ``{{random}}``...)."""

    __slots__ = ("_ctx", "_plain")

    def __init__(self, ctx: MacroContext) -> None:
        self._ctx = ctx
        self._plain: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        """``text`` with its macros substituted."""
        if not text:
            return ""
        done = self._plain.get(text)
        if done is None:
            done = evaluate_plain(text, self._ctx)
            if done is None:
                return evaluate_in_order(text, self._ctx)
            self._plain[text] = done
        return done


@dataclass(slots=True)
class Prepared:
    """The evaluated card fields, lore and injections both builders start from."""

    user: str
    char: str
    macros: MacroContext
    sub: Callable[[str], str]
    description: str
    personality: str
    scenario: str
    persona: str
    mes_examples: str
    card_system: str
    card_jailbreak: str
    view: NewestFirst
    lore: WorldInfoResult
    ext: list[ExtPrompt] = field(default_factory=list)


def prepare(inp: PromptInput, wi_count_overhead: int = 0) -> Prepared:
    """Evaluate card fields with macros, run World Info, and collect injections.

    ``wi_count_overhead`` is added to every non-empty count in the World Info budget check
    (chat completion counts each text as a system message, as SillyTavern does)."""
    card = inp.card
    base = replaced(inp.macros, user=inp.persona.name, char=card.name)
    view = NewestFirst(inp.history, inp.generation_type in ("swipe", "regenerate"))
    _fill_last_messages(base, view)
    fields = _card_fields(inp, base)
    ctx = replaced(
        base,
        description=fields.description,
        personality=fields.personality,
        scenario=fields.scenario,
        persona=fields.persona,
        mes_examples=fields.mes_examples,
        char_prompt=card.system_prompt,
        char_jailbreak=card.post_history_instructions,
        char_version=card.character_version,
        variables=inp.macros.variables,
        global_variables=inp.macros.global_variables,
    )
    ctx.share_rng(base)
    lore = _lore(inp, view, ctx, fields, wi_count_overhead)
    if lore.outlets:
        ctx.outlets = lore.outlet_map()
        fields = _fields_with_outlets(inp, replaced(base, outlets=ctx.outlets), fields)
    prepared = Prepared(
        user=base.user,
        char=base.char,
        macros=ctx,
        sub=Substitution(ctx),
        card_system=card.system_prompt,
        card_jailbreak=card.post_history_instructions,
        view=view,
        lore=lore,
        description=fields.description,
        personality=fields.personality,
        scenario=fields.scenario,
        persona=fields.persona,
        mes_examples=fields.mes_examples,
    )
    prepared.ext = _extension_prompts(inp, prepared)
    return prepared


class _Fields(NamedTuple):
    description: str
    personality: str
    scenario: str
    persona: str
    mes_examples: str


def _card_fields(inp: PromptInput, ctx: MacroContext) -> _Fields:
    """Card and persona texts with macros substituted (SillyTavern's ``baseChatReplace``)."""
    card = inp.card
    raw = (card.description, card.personality, card.scenario, inp.persona.description)
    texts = [*raw, card.mes_example]
    return _Fields(*(_base_replace(v, ctx) for v in texts))


def _base_replace(text: str, ctx: MacroContext) -> str:
    """SillyTavern's ``baseChatReplace``: trimmed, macros substituted, no ``\\r``."""
    text = text.strip()
    return evaluate(text, ctx).replace("\r", "") if text else ""


def _fields_with_outlets(inp: PromptInput, ctx: MacroContext, fields: _Fields) -> _Fields:
    """Card and persona texts holding ``{{outlet::...}}``, evaluated again now that World
    Info has filled the outlets (the others are kept as they were)."""
    card = inp.card
    raw = (card.description, card.personality, card.scenario, inp.persona.description)
    texts = [*raw, card.mes_example]
    return _Fields(
        *(
            evaluate(text.strip(), ctx) if "{{outlet::" in text.lower() else done
            for text, done in zip(texts, fields, strict=True)
        )
    )


def _global_scan(inp: PromptInput, fields: _Fields, ctx: MacroContext) -> dict[str, str]:
    """The texts entries can opt into scanning (SillyTavern's ``globalScanData``)."""
    depth_prompt = inp.card.depth_prompt[0].strip()
    return {
        "matchPersonaDescription": fields.persona,
        "matchCharacterDescription": fields.description,
        "matchCharacterPersonality": fields.personality,
        "matchCharacterDepthPrompt": evaluate(depth_prompt, ctx) if depth_prompt else "",
        "matchScenario": fields.scenario,
        "matchCreatorNotes": inp.card.creator_notes,
    }


def _fill_last_messages(ctx: MacroContext, view: NewestFirst) -> None:
    newest = view.get(0)
    if newest is None:
        return
    if not ctx.last_message:
        ctx.last_message = newest[1].text
    if ctx.last_message_id is None:
        ctx.last_message_id = newest[0]
    for i, (_, msg) in enumerate(view):
        if i > 200 or (ctx.last_user_message and ctx.last_char_message):
            break
        if msg.is_user and not ctx.last_user_message:
            ctx.last_user_message = msg.text
        if not msg.is_user and not ctx.last_char_message:
            ctx.last_char_message = msg.text
    if ctx.idle_since is None:
        ctx.idle_since = _idle_since(view)


def _idle_since(view: NewestFirst) -> datetime | None:
    """When the user last wrote before the newest message (``{{idle_duration}}``)."""
    for i, (_, msg) in enumerate(view):
        if i > 200:
            break
        if i > 0 and msg.is_user:
            return msg.send_date
    return None


def _lore(
    inp: PromptInput, view: NewestFirst, ctx: MacroContext, fields: _Fields, count_overhead: int
) -> WorldInfoResult:
    s = inp.settings
    return check_world_info(
        ScanView(view, s.world_info.include_names),
        inp.lorebooks,
        max_context=s.context_size - s.max_reply_tokens,
        tokenizer=inp.tokenizer,
        rng=ctx.seed,
        timed_state=inp.timed_state,
        chat_length=view.chat_length,
        settings=s.world_info,
        macros=lambda t: evaluate(t, ctx),
        character_name=inp.card.name,
        generation_type=inp.generation_type,
        character_tags=inp.card.tags,
        global_scan=_global_scan(inp, fields, ctx),
        count_overhead=count_overhead,
        rewrite=inp.lore_rewrite,
    )


def _an_due(inp: PromptInput) -> bool:
    note = inp.authors_note
    if note is None or note.frequency <= 0:
        return False
    if note.frequency == 1:
        return True
    users = note.user_message_count
    if users is None:
        users = sum(1 for m in inp.history if m.is_user)
    if users <= 0:
        return False
    left = users % note.frequency if users >= note.frequency else note.frequency - users
    return left == 0


def _extension_prompts(inp: PromptInput, p: Prepared) -> list[ExtPrompt]:
    ext: list[ExtPrompt] = []
    note, persona, lore = inp.authors_note, inp.persona, p.lore
    due = _an_due(inp) and note is not None
    text = p.sub(note.text) if due and note is not None else ""
    if p.persona and persona.position in (2, 3):
        text = f"{p.persona}\n{text}" if persona.position == 2 else f"{text}\n{p.persona}"
    if due:
        top, bottom = "\n".join(lore.an_top), "\n".join(lore.an_bottom)
        text = f"{top}\n{text}\n{bottom}"
    text = text.removeprefix("\n").removesuffix("\n")
    if text.strip():
        where = note or AuthorsNote()
        ext.append(ExtPrompt("2_floating_prompt", where.position, where.depth, where.role, text))
    if summary := _summary_prompt(inp, p):
        ext.append(summary)
    if recall := _found_prompt("3_vectors", inp.recall, p):
        ext.append(recall)
    if databank := _found_prompt("4_vectors_data_bank", inp.databank, p):
        ext.append(databank)
    prompt, depth, role = inp.card.depth_prompt
    if prompt.strip():
        ext.append(
            ExtPrompt("DEPTH_PROMPT", IN_CHAT, depth, _role_index(role), p.sub(prompt.strip()))
        )
    if p.persona and persona.position == 4:
        ext.append(
            ExtPrompt("PERSONA_DESCRIPTION", IN_CHAT, persona.depth, persona.role, p.persona)
        )
    for inj in lore.depth:
        key = f"customDepthWI-{inj.depth}-{ROLES.index(inj.role)}"
        ext.append(ExtPrompt(key, IN_CHAT, inj.depth, ROLES.index(inj.role), inj.content))
    return sorted(ext, key=lambda e: e.key)


def _summary_prompt(inp: PromptInput, p: Prepared) -> ExtPrompt | None:
    """The chat's summary in its template (SillyTavern's ``1_memory``), or ``None`` when
    there is none or it goes nowhere. ``{{summary}}`` is a macro of the build
    (``MacroContext.extra``), so the template's other macros are evaluated with it."""
    summary = inp.summary
    if summary is None or not summary.text.strip():
        return None
    if summary.position not in PLACED:
        return None
    text = p.sub(summary.template).strip()
    if not text:
        return None
    return ExtPrompt("1_memory", summary.position, summary.depth, summary.role, text)


def _found_prompt(key: str, found: Recall | None, p: Prepared) -> ExtPrompt | None:
    """What a lookup found (recalled messages: SillyTavern's ``3_vectors``; the Data Bank's
    chunks: ``4_vectors_data_bank``) in its template, or ``None`` when it found nothing.
    The template's macros are evaluated; the texts found are not."""
    if found is None or not found.texts or found.position not in PLACED:
        return None
    head, placeholder, tail = found.template.partition("{{text}}")
    body = "\n\n".join(found.texts)
    text = (p.sub(head) + body + p.sub(tail) if placeholder else p.sub(head) + "\n" + body).strip()
    return ExtPrompt(key, found.position, found.depth, found.role, text)


def _role_index(role: str) -> int:
    return ROLES.index(role) if role in ROLES else 0


def anchor(ext: list[ExtPrompt], position: int, wrap: bool = True) -> str:
    """Joined extension prompts at a prompt position (``getExtensionPrompt``)."""
    text = "\n".join(e.text.strip() for e in ext if e.position == position and e.text)
    if wrap and text:
        text = ("" if text.startswith("\n") else "\n") + text
        text += "" if text.endswith("\n") else "\n"
    return text


def depth_injections(ext: list[ExtPrompt], continuing: bool) -> dict[int, list[tuple[int, str]]]:
    """In-chat prompts: ``{depth: [(role, text), ...]}``, roles in system, user, assistant order."""
    out: dict[int, list[tuple[int, str]]] = {}
    for depth in sorted({e.depth for e in ext if e.position == IN_CHAT}):
        for role in (0, 1, 2):
            parts = [
                e.text.strip()
                for e in ext
                if e.position == IN_CHAT and e.depth == depth and e.role == role and e.text
            ]
            if parts:
                target = 1 if continuing and depth == 0 else depth
                out.setdefault(target, []).append((role, "\n".join(parts)))
    return out
