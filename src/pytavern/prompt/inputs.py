"""Inputs and outputs of the prompt builder (plain frozen dataclasses)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from pytavern.formats.cards import Card
from pytavern.formats.chats import ChatRecord
from pytavern.formats.presets import ContextTemplate, InstructTemplate
from pytavern.formats.worldinfo import WorldInfoEntry
from pytavern.prompt.macros import MacroContext
from pytavern.prompt.tokens import Tokenizer
from pytavern.prompt.wi_timed import TimedState
from pytavern.prompt.worldinfo import (
    ActivatedEntry,
    LoreRewrite,
    WorldInfoSettings,
    WorldInfoSources,
)
from pytavern.types import ChatMessage, Role

GenerationType = Literal["normal", "continue", "impersonate", "swipe", "regenerate", "quiet"]
"""``quiet``: an answer to ``PromptInput.quiet_prompt`` that is not a chat message (a
summary), SillyTavern's quiet generation."""

DEFAULT_MAIN_PROMPT = (
    "Write {{char}}'s next reply in a fictional chat between {{charIfNotGroup}} and {{user}}."
)
DEFAULT_IMPERSONATION_PROMPT = (
    "[Write your next reply from the point of view of {{user}}, using the chat history so far "
    "as a guideline for the writing style of {{user}}. Don't write as {{char}} or system. "
    "Don't describe actions of {{char}}.]"
)
DEFAULT_CONTINUE_NUDGE = (
    "[Continue the following message. Do not include ANY parts of the original message. Use "
    "capitalization and punctuation as if your reply is a part of the original message: "
    "{{lastChatMessage}}]"
)
DEFAULT_ENHANCE_DEFINITIONS = (
    "If you have more knowledge of {{char}}, add to the character's lore and personality to "
    "enhance them but keep the Character Sheet's definitions absolute."
)


@dataclass(slots=True)
class PromptMemo:
    """What the chat builder last made of a message, kept with it for the next builds.

    ``entry`` is ``(key, message, tokens)``: the message as the prompt sends it and its
    token count (``None``: not kept, the tokenizer's counts may change), and the ``key``
    of everything besides the message they depend on. One tuple, replaced whole, so a
    reader never sees a key with another build's message.
    """

    entry: tuple[Hashable, ChatMessage, int | None] | None = None


@dataclass(frozen=True, slots=True)
class HistoryMessage:
    """One chat message as the builder sees it."""

    is_user: bool
    name: str
    text: str
    is_system: bool = False
    """Hidden from the prompt (SillyTavern's ``is_system``)."""
    is_narrator: bool = False
    """A narrator/system message that is sent (``extra.type == "narrator"``)."""
    send_date: datetime | None = None
    force_avatar: bool = False
    memo: PromptMemo = field(default_factory=PromptMemo, init=False, repr=False, compare=False)
    """The chat builder's memo of this message (lives as long as the message: a chat's
    cached messages keep theirs between turns; an edited message is a new one)."""

    @classmethod
    def from_record(cls, record: ChatRecord) -> HistoryMessage:
        """View a SillyTavern chat line as a history message."""
        return cls(
            is_user=record.is_user,
            name=record.name,
            text=record.mes,
            is_system=record.is_system,
            is_narrator=record.extra.get("type") == "narrator",
            send_date=parse_send_date(record.send_date),
            force_avatar=bool(record.raw.get("force_avatar")),
        )


def parse_send_date(value: object) -> datetime | None:
    """Read SillyTavern's ``send_date``: epoch milliseconds, ISO text or "May 5, 2024 3:04pm"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    for fmt in ("%B %d, %Y %I:%M%p", "%B %d, %Y %I:%M %p", "%Y-%m-%d @%Hh %Mm %Ss %fms"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Persona:
    """The persona. Positions: 0 in prompt, 2/3 author's note top/bottom, 4 at depth, 9 none."""

    name: str = "User"
    description: str = ""
    position: int = 0
    depth: int = 2
    role: int = 0


@dataclass(frozen=True, slots=True)
class AuthorsNote:
    """Author's note. Positions: 0 after scenario, 1 in chat at depth, 2 before prompt."""

    text: str = ""
    depth: int = 4
    frequency: int = 1
    position: int = 1
    role: int = 0
    user_message_count: int | None = None
    """User messages in the chat, for ``frequency`` > 1 (counted from the history if None)."""


@dataclass(frozen=True, slots=True)
class Summary:
    """The chat's summary (SillyTavern's Summarize extension, ``1_memory``).

    ``template`` holds it (``{{summary}}``) where ``position`` puts it: 0 after the story
    string / main prompt, 1 in the chat at ``depth`` as ``role`` (0 system, 1 user, 2
    assistant), 2 before the prompt, -1 nowhere."""

    text: str
    template: str = "[Summary: {{summary}}]"
    position: int = 0
    depth: int = 2
    role: int = 0


@dataclass(frozen=True, slots=True)
class Recall:
    """Earlier messages of the chat put back into the prompt (SillyTavern's ``3_vectors``).

    ``texts`` (oldest first) go into ``template`` at ``{{text}}``, one paragraph each,
    placed as a ``Summary`` is (``position``, ``depth``, ``role``)."""

    texts: tuple[str, ...]
    template: str = "Past events:\n{{text}}"
    position: int = 1
    depth: int = 2
    role: int = 0


@dataclass(frozen=True, slots=True)
class PromptItem:
    """One entry of the prompt manager's order (built-in identifier or a custom prompt)."""

    identifier: str
    enabled: bool = True
    role: Role | None = None
    content: str | None = None
    injection_position: int = 0
    """0 relative (in the order), 1 absolute (in the chat at ``injection_depth``)."""
    injection_depth: int = 4
    forbid_overrides: bool = False


DEFAULT_PROMPT_ORDER: tuple[PromptItem, ...] = (
    PromptItem("main"),
    PromptItem("worldInfoBefore"),
    PromptItem("personaDescription"),
    PromptItem("charDescription"),
    PromptItem("charPersonality"),
    PromptItem("scenario"),
    PromptItem("enhanceDefinitions", enabled=False),
    PromptItem("nsfw"),
    PromptItem("worldInfoAfter"),
    PromptItem("dialogueExamples"),
    PromptItem("chatHistory"),
    PromptItem("jailbreak"),
)
"""SillyTavern's default prompt order (``jailbreak`` is Post-History Instructions)."""


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """Chat Completion (prompt manager) settings, SillyTavern defaults."""

    main_prompt: str = DEFAULT_MAIN_PROMPT
    post_history_instructions: str = ""
    nsfw_prompt: str = ""
    enhance_definitions: str = DEFAULT_ENHANCE_DEFINITIONS
    prompt_order: tuple[PromptItem, ...] = DEFAULT_PROMPT_ORDER
    new_chat_prompt: str = "[Start a new Chat]"
    new_example_chat_prompt: str = "[Example Chat]"
    continue_nudge_prompt: str = DEFAULT_CONTINUE_NUDGE
    impersonation_prompt: str = DEFAULT_IMPERSONATION_PROMPT
    personality_format: str = "[{{char}}'s personality: {{personality}}]"
    scenario_format: str = "[Circumstances and context of the dialogue: {{scenario}}]"
    wi_format: str = "{0}"
    names_behavior: int = 0
    """-1 none, 0 default, 1 the message ``name`` field, 2 a "Name: " content prefix."""
    squash_system_messages: bool = False
    continue_prefill: bool = False
    continue_postfix: str = " "
    assistant_prefill: str = ""
    assistant_impersonation: str = ""
    send_if_empty: str = ""
    pin_examples: bool = False


@dataclass(frozen=True, slots=True)
class TextSettings:
    """Text Completion settings: instruct (``None`` = off), context template, stop strings."""

    instruct: InstructTemplate | None = None
    context: ContextTemplate = field(default_factory=ContextTemplate)
    custom_stop: tuple[str, ...] = ()
    token_padding: int = 64
    pin_examples: bool = False


@dataclass(frozen=True, slots=True)
class PromptSettings:
    """How to build the prompt."""

    mode: Literal["chat", "text"] = "chat"
    context_size: int = 8192
    max_reply_tokens: int = 512
    system_prompt: str | None = None
    """Text mode system prompt (sysprompt preset content); ``None`` disables it."""
    prefer_character_prompt: bool = True
    prefer_character_jailbreak: bool = True
    trim_sentences: bool = False
    """Cut a finished reply after its last complete sentence (SillyTavern's option)."""
    chat: ChatSettings = field(default_factory=ChatSettings)
    text: TextSettings = field(default_factory=TextSettings)
    world_info: WorldInfoSettings = field(default_factory=WorldInfoSettings)


@dataclass(frozen=True, slots=True)
class PromptInput:
    """Everything one prompt is built from.

    ``history`` is oldest-first; it may be a lazy sequence (only ``len`` and indexing from
    the end are used, for as many messages as fit).
    """

    card: Card
    history: Sequence[HistoryMessage]
    tokenizer: Tokenizer
    persona: Persona = field(default_factory=Persona)
    lorebooks: WorldInfoSources = field(default_factory=WorldInfoSources)
    authors_note: AuthorsNote | None = None
    summary: Summary | None = None
    recall: Recall | None = None
    databank: Recall | None = None
    """Chunks of the Data Bank's documents (SillyTavern's ``4_vectors_data_bank``), in
    their template and placement as recalled messages are."""
    generation_type: GenerationType = "normal"
    quiet_prompt: str = ""
    """What a ``quiet`` generation answers: sent after the history as a system message."""
    settings: PromptSettings = field(default_factory=PromptSettings)
    macros: MacroContext = field(default_factory=MacroContext)
    timed_state: TimedState = field(default_factory=TimedState)
    lore_rewrite: LoreRewrite | None = None
    """The regex scripts of SillyTavern's World Info placement (prompt-only ones), run on
    each activated entry's content before it is placed; ``None`` when there are none."""


@dataclass(frozen=True, slots=True)
class PromptPart:
    """Tokens spent on one named part of the prompt."""

    name: str
    tokens: int


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Where the tokens went, which lore fired and why, and what was cut."""

    parts: tuple[PromptPart, ...]
    budget: int
    total_tokens: int
    history_included: int
    history_total: int
    examples_included: int
    examples_total: int
    lore: tuple[ActivatedEntry, ...] = ()
    lore_skipped: tuple[tuple[WorldInfoEntry, str], ...] = ()
    cut: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BuiltPrompt:
    """The result: chat messages (chat mode) or text (text mode), plus stop strings etc."""

    messages: tuple[ChatMessage, ...]
    text: str | None
    stop: list[str]
    prefill: str | None
    breakdown: Breakdown
    timed_state: TimedState
