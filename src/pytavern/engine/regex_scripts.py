"""Where regex scripts are kept and when they run.

As in SillyTavern there are three scopes, run in this order: global scripts (the user setting
``regex``), the character's scripts (its card's ``extensions.regex_scripts``, run only once
the user allowed them for that character) and the active preset's scripts (the stored
sampler preset named in the setting, its ``extensions.regex_scripts``).

Stored text: the user's message (user-input placement) and the reply (AI-output placement,
and reasoning) are stored with the plain scripts applied. Display-only scripts change only
what the UI shows (``display_texts``); prompt-only ones only what is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, overload

from pydantic import BaseModel, ConfigDict, Field

from pytavern.engine.preferences import load_preferences
from pytavern.engine.stored_settings import load_setting, save_setting
from pytavern.engine.turn_loader import TurnData, load_persona
from pytavern.formats.cards import Card, card_from_dict
from pytavern.formats.regex import Placement, RegexScript, scripts_from_value
from pytavern.prompt.inputs import HistoryMessage
from pytavern.prompt.macros import MacroContext
from pytavern.prompt.regex import RegexUse, apply_scripts
from pytavern.prompt.worldinfo import LoreRewrite
from pytavern.store import MessageRecord, Store

SETTING_KEY = "regex"
PRESET_KIND = "sampler"
CARD_KEY = "regex_scripts"


class RegexSettings(BaseModel):
    """The user's regex setting: global scripts and what else may run."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    scripts: list[dict[str, Any]] = Field(default_factory=list)
    """Global scripts, as SillyTavern JSON."""
    allowed_characters: list[int] = Field(default_factory=list)
    """Characters whose own scripts may run (SillyTavern asks before running a card's)."""
    preset: str | None = None
    """The sampler preset whose ``extensions.regex_scripts`` run, if any."""


def load_settings(store: Store) -> RegexSettings:
    """The stored regex setting (empty when never set)."""
    return load_setting(
        store,
        SETTING_KEY,
        RegexSettings,
        what="regex scripts",
        hint="Import them again with `pytavern regex import FILE`",
    )


def save_settings(store: Store, settings: RegexSettings) -> None:
    """Store the regex setting."""
    save_setting(store, SETTING_KEY, settings)


def card_scripts(card: dict[str, Any]) -> list[dict[str, Any]]:
    """A card's own scripts as SillyTavern JSON (V2/V3 ``data.extensions``)."""
    data = card.get("data") if isinstance(card.get("data"), dict) else card
    extensions = data.get("extensions") if isinstance(data, dict) else None
    found = extensions.get(CARD_KEY) if isinstance(extensions, dict) else None
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def preset_scripts(store: Store, name: str | None) -> list[dict[str, Any]]:
    """The scripts of the stored sampler preset ``name`` (none when it is not stored)."""
    record = store.get_preset(PRESET_KIND, name) if name else None
    extensions = record.data.get("extensions") if record is not None else None
    found = extensions.get(CARD_KEY) if isinstance(extensions, dict) else None
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


@dataclass(frozen=True, slots=True)
class ScriptSet:
    """The scripts in play for one character, in SillyTavern's order, and the macro context."""

    scripts: list[RegexScript]
    context: MacroContext = field(default_factory=MacroContext)

    def apply(self, text: str, use: RegexUse) -> str:
        """``text`` with the scripts that apply to ``use`` run on it."""
        if not self.scripts or not text:
            return text
        return apply_scripts(text, self.scripts, use, self.context)


def scripts_for(store: Store, character_id: int, card: Card) -> list[RegexScript]:
    """Global, then the character's (if allowed), then the active preset's scripts."""
    settings = load_settings(store)
    raw = list(settings.scripts)
    if character_id in settings.allowed_characters:
        raw += card_scripts(card.raw)
    raw += preset_scripts(store, settings.preset)
    return scripts_from_value(raw) if raw else []


def script_set(
    store: Store, character_id: int, card: Card, user: str, *, revision: str | None = None
) -> ScriptSet:
    """The scripts and macro context for a character's chat (``user``: the persona name).

    With the library ``revision`` a turn was read at, the scripts are reused while it is
    unchanged (the settings, presets and cards they come from are all library rows)."""
    scripts = (
        scripts_for(store, character_id, card)
        if revision is None
        else _scripts_at(store, character_id, card, revision)
    )
    return ScriptSet(scripts, MacroContext(user=user, char=card.name))


_SCRIPTS_KEPT = 64
_Kept = tuple[Card, list[dict[str, Any]], list[RegexScript]]
_scripts_by_revision: dict[tuple[int, int, str, int], _Kept] = {}
"""(database, owner, library revision, character) -> the card read then, its own scripts
and the scripts in force."""


def _scripts_at(store: Store, character_id: int, card: Card, revision: str) -> list[RegexScript]:
    key = (id(store.engine), store.owner_id, revision, character_id)
    kept = _scripts_by_revision.get(key)
    if kept is not None and kept[0] is card:
        return kept[2]
    own = card_scripts(card.raw)
    if kept is not None and kept[1] == own:  # a group's joined card: a new object each turn
        return kept[2]
    scripts = scripts_for(store, character_id, card)
    if len(_scripts_by_revision) >= _SCRIPTS_KEPT:
        _scripts_by_revision.clear()
    _scripts_by_revision[key] = (card, own, scripts)
    return scripts


def has_scripts(settings: RegexSettings) -> bool:
    """Whether any script could run (global ones, an allowed character's, a preset's)."""
    return bool(settings.scripts or settings.allowed_characters or settings.preset)


def chat_script_set(store: Store, chat_id: int) -> ScriptSet:
    """The script set of a stored chat (its character, the current persona); empty at the
    cost of one read when no script could run."""
    if not has_scripts(load_settings(store)):
        return ScriptSet([])
    chat = store.get_chat(chat_id)
    record = store.get_character(chat.character_id)
    persona = load_persona(store, load_preferences(store))
    return script_set(store, record.id, card_from_dict(record.card), persona.name)


def regex_reply(
    store: Store,
    character_id: int,
    card: Card,
    user: str,
    text: str,
    reasoning: str,
    *,
    revision: str | None = None,
) -> tuple[str, str]:
    """A finished reply and its reasoning as they are stored: the AI-output scripts applied
    to the text, the reasoning scripts to the reasoning (``revision``: see ``script_set``)."""
    scripts = script_set(store, character_id, card, user, revision=revision)
    return (
        scripts.apply(text, RegexUse(Placement.AI_OUTPUT)),
        scripts.apply(reasoning, RegexUse(Placement.REASONING)),
    )


def display_texts(scripts: ScriptSet, messages: list[MessageRecord], newer: int = 0) -> list[str]:
    """What the UI shows of each message: display-only scripts applied. ``messages`` are in
    chat order and ``newer`` messages follow the last of them (a message's depth is how many
    messages are newer than it, as in SillyTavern)."""
    shown: list[str] = []
    for index, message in enumerate(messages):
        placement = Placement.USER_INPUT if message.role == "user" else Placement.AI_OUTPUT
        depth = len(messages) - 1 - index + newer
        shown.append(scripts.apply(message.text, RegexUse(placement, markdown=True, depth=depth)))
    return shown


def regex_user_input(store: Store, chat_id: int, text: str) -> str:
    """A user's message with the user-input scripts applied, as it is stored."""
    return chat_script_set(store, chat_id).apply(text, RegexUse(Placement.USER_INPUT))


def user_input_applied(store: Store, turn: TurnData) -> TurnData:
    """A ``send`` turn with the user-input scripts applied to the user's message, which is
    stored and sent so (whatever face sent it); other turns as they are. The scripts are
    those ``regex_reply`` runs on the reply (the turn's card, kept while the library
    revision holds)."""
    message = turn.user_message
    if message is None:
        return turn
    scripts = script_set(
        store,
        turn.chat.character_id,
        turn.card,
        turn.persona.name,
        revision=turn.library_revision,
    )
    text = scripts.apply(message.swipe.text, RegexUse(Placement.USER_INPUT))
    if text == message.swipe.text:
        return turn
    changed = replace(message, swipe=replace(message.swipe, text=text))
    return replace(turn, user_message=changed, newest=[*turn.newest[:-1], changed])


def regex_edit(store: Store, message: MessageRecord, text: str) -> str:
    """A message's edited text with the scripts that run on edit applied."""
    placement = Placement.USER_INPUT if message.role == "user" else Placement.AI_OUTPUT
    return chat_script_set(store, message.chat_id).apply(text, RegexUse(placement, edit=True))


class PromptHistory(Sequence[HistoryMessage]):
    """A chat's history as the prompt sends it: prompt-only scripts applied to each message,
    with its depth (0 for the newest) as SillyTavern counts it."""

    def __init__(self, inner: Sequence[HistoryMessage], scripts: ScriptSet) -> None:
        self._inner = inner
        self._scripts = scripts

    def __len__(self) -> int:
        return len(self._inner)

    @overload
    def __getitem__(self, index: int) -> HistoryMessage: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[HistoryMessage]: ...

    def __getitem__(self, index: int | slice) -> HistoryMessage | Sequence[HistoryMessage]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        message = self._inner[index]
        depth = len(self) - 1 - (index % len(self))
        placement = Placement.USER_INPUT if message.is_user else Placement.AI_OUTPUT
        text = self._scripts.apply(message.text, RegexUse(placement, prompt=True, depth=depth))
        return message if text == message.text else replace(message, text=text)


def prompt_scripts(
    store: Store, character_id: int, card: Card, user: str, *, revision: str | None = None
) -> ScriptSet | None:
    """The scripts a chat's prompt runs (``None`` when no prompt-only script is in play, so
    a prompt pays nothing for them; ``revision``: see ``script_set``)."""
    scripts = script_set(store, character_id, card, user, revision=revision)
    if not any(script.prompt_only and not script.disabled for script in scripts.scripts):
        return None
    return scripts


def prompt_history(
    history: Sequence[HistoryMessage], scripts: ScriptSet | None
) -> Sequence[HistoryMessage]:
    """``history`` as the prompt sends it (itself when ``scripts`` is ``None``)."""
    return history if scripts is None else PromptHistory(history, scripts)


def lore_rewrite(scripts: ScriptSet | None) -> LoreRewrite | None:
    """What the World Info placement's prompt-only scripts do to an activated entry's
    content as it is placed (with its depth when it goes @depth, as SillyTavern runs them);
    ``None`` when there are none."""
    if scripts is None or not any(
        script.prompt_only and not script.disabled and Placement.WORLD_INFO in script.placement
        for script in scripts.scripts
    ):
        return None

    def rewrite(content: str, depth: int | None) -> str:
        return scripts.apply(content, RegexUse(Placement.WORLD_INFO, prompt=True, depth=depth))

    return rewrite
