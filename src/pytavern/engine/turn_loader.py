"""Everything one chat turn needs from the store, read in one transaction.

The chat, the character, the preferences, the persona, the connection, the lorebooks, the
templates and the newest messages are read (and the user's message appended) on one
connection, so the time before the upstream request starts is a few fast queries. Parsed
forms of stored JSON (cards, preferences, lorebooks, templates) are reused while their
stored text is unchanged, so a big lorebook is not parsed again on every turn.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from pytavern.engine.chat_context import CachedChat, ChatContexts
from pytavern.engine.connections import connection_config
from pytavern.engine.group_cards import GroupSpeaker, joined_card
from pytavern.engine.history import FIRST_PAGE
from pytavern.engine.preferences import SETTING_KEY, GenerationPreferences, parse_preferences
from pytavern.errors import ConfigError
from pytavern.formats.cards import Card, card_from_dict
from pytavern.formats.presets import ContextTemplate, InstructTemplate
from pytavern.formats.worldinfo import Lorebook, lorebook_from_character_book, lorebook_from_dict
from pytavern.prompt.inputs import Persona
from pytavern.prompt.worldinfo import WorldInfoSources
from pytavern.providers import get_api_type
from pytavern.providers.base import ConnectionConfig
from pytavern.secrets import SecretStore
from pytavern.store import (
    ChatRecord,
    ConnectionRecord,
    MessageRecord,
    PersonaRecord,
    Queries,
    Store,
    StoredCard,
    SwipeRecord,
)

GenerationMode = Literal["send", "regenerate", "swipe", "continue", "impersonate", "summarize"]
ParsedT = TypeVar("ParsedT")
CACHE_ENTRIES = 256


class ParsedCache:
    """Parsed values of stored JSON texts, reused while the text is unchanged.

    Keyed by what the text is (``("card", 3)``, ``("lorebook", "Eldoria")``...); a hit needs
    the stored text to equal the cached one, so an edit made anywhere, even by another
    process on the same database, is seen on the next turn. Cached values are never mutated.
    """

    def __init__(self, capacity: int = CACHE_ENTRIES) -> None:
        self._capacity = capacity
        self._entries: dict[tuple[str, object], tuple[str, Any]] = {}
        self.chats = ChatContexts()
        """The newest messages of recent chats, good while each chat's revision holds."""

    def get(self, key: tuple[str, object], text: str, parse: Callable[[str], ParsedT]) -> ParsedT:
        """The parse of ``text``, from the cache when ``key`` last held the same text."""
        hit = self._entries.get(key)
        if hit is not None and hit[0] == text:
            value: ParsedT = hit[1]
            return value
        value = parse(text)
        self._entries.pop(key, None)
        if len(self._entries) >= self._capacity:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (text, value)
        return value


@dataclass(slots=True)
class FoundDocuments:
    """What a turn's search by meaning found in the Data Bank
    (``pytavern.engine.databank_vectors``): ``None`` until it ran, or when it did not (the
    word match then), else the chunks' texts, closest first (maybe none)."""

    texts: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """What the face asked for."""

    chat_id: int
    mode: GenerationMode
    text: str | None
    connection: str | None
    speaker: GroupSpeaker | None = None
    """In a group chat: which member answers (and whose cards are joined)."""


@dataclass(frozen=True, slots=True)
class TurnData:
    """What a turn works from, as the store held it when the turn started."""

    request: TurnRequest
    chat: ChatRecord
    card: Card
    preferences: GenerationPreferences
    persona: Persona
    record: ConnectionRecord
    config: ConnectionConfig
    lorebooks: WorldInfoSources
    instruct: InstructTemplate | None
    """The chosen instruct template when it is a stored one."""
    context: ContextTemplate | None
    """The chosen context template when it is a stored one."""
    newest: list[MessageRecord]
    """The newest messages, oldest first, including the user's message being sent."""
    message_count: int
    user_message: MessageRecord | None = None
    """The user's message of a ``send``, not stored yet (``generation.run_turn`` stores it)."""
    cached: CachedChat | None = None
    """The chat's newest stored messages at the turn's start (``newest`` holds the newest
    of them); the prompt reads history from here before paging the store."""
    contexts: ChatContexts | None = None
    """Where ``cached`` is kept: the turn's builds and writes update it."""
    library_revision: str | None = None
    """The library revision the turn was read at (keys what is derived from the library)."""
    found: FoundDocuments = field(default_factory=FoundDocuments)
    """What the Data Bank's search by meaning found for this turn (shared by its copies:
    a fallback connection's build uses it too)."""

    @property
    def last_message(self) -> MessageRecord | None:
        """The newest message of the chat, if any."""
        return self.newest[-1] if self.newest else None

    @property
    def characters(self) -> tuple[int, ...]:
        """The characters whose cards the turn speaks with: the chat's, or in a group the
        speaking member's and the members joined to it (whose documents it may use)."""
        speaker = self.request.speaker
        if speaker is None:
            return (self.chat.character_id,)
        return (speaker.character_id, *speaker.joined)


@dataclass(frozen=True, slots=True)
class TurnSetup:
    """What a turn reads from the library: it changes only with the library revision."""

    card: Card
    preferences: GenerationPreferences
    persona: Persona
    record: ConnectionRecord
    lorebooks: WorldInfoSources
    """Global, character and persona books (the chat's own book is read every turn)."""
    instruct: InstructTemplate | None
    context: ContextTemplate | None


def load_turn(
    store: Store, secrets: SecretStore, parsed: ParsedCache, request: TurnRequest
) -> TurnData:
    """Read a turn's data, in one transaction that writes nothing.

    The library part (card, preferences, persona, connection, lorebooks, templates) is
    reused from the last turn of the same character and connection while the library
    revision is unchanged. The user's message of a ``send`` is part of the prompt but not
    stored yet: ``generation.run_turn`` stores it, before any of the reply is shown.
    """
    with store.queries() as queries:
        read = queries.chat_for_turn(request.chat_id)
        chat = read.chat
        character_id = request.speaker.character_id if request.speaker else chat.character_id
        setup = _setup(queries, parsed, (character_id, request.connection), read.revision)
        if request.speaker is not None and request.speaker.joined:
            setup = replace(setup, card=joined_card(queries, setup.card, request.speaker))
        config = connection_config(setup.record, secrets)
        cached = parsed.chats.get(chat.id, read.chat_revision)
        if cached is None:
            page = queries.history(chat.id, limit=FIRST_PAGE)
            cached = CachedChat.of(chat.id, read.chat_revision, page[::-1])
            parsed.chats.put(cached)
        newest = list(reversed(cached.records[:FIRST_PAGE]))
        _check_mode(request.mode, newest)
        chat_books = _stored_books(queries, parsed, chat.metadata.get("world_info"))
    user_message = None
    if request.mode == "send" and request.text:
        user_message = _unsaved_user_message(chat.id, read.next_position, setup, request.text)
        newest.append(user_message)
    return TurnData(
        request=request,
        chat=chat,
        card=setup.card,
        preferences=setup.preferences,
        persona=setup.persona,
        record=setup.record,
        config=config,
        lorebooks=replace(setup.lorebooks, chat_books=chat_books),
        instruct=setup.instruct,
        context=setup.context,
        newest=newest,
        message_count=chat.message_count + (user_message is not None),
        user_message=user_message,
        cached=cached,
        contexts=parsed.chats,
        library_revision=read.revision,
    )


def _unsaved_user_message(
    chat_id: int, position: int, setup: TurnSetup, text: str
) -> MessageRecord:
    now = datetime.now(UTC)
    return MessageRecord(
        id=0,
        chat_id=chat_id,
        position=position,
        role="user",
        name=setup.persona.name,
        active_swipe=0,
        swipe_count=1,
        swipe=SwipeRecord(index=0, text=text, status="complete", created_at=now),
        created_at=now,
    )


def _setup(
    queries: Queries, parsed: ParsedCache, key: tuple[int, str | None], revision: str | None
) -> TurnSetup:
    if revision is None:
        return _read_setup(queries, parsed, *key)
    return parsed.get(("setup", key), revision, lambda _r: _read_setup(queries, parsed, *key))


def _read_setup(
    queries: Queries, parsed: ParsedCache, character_id: int, connection: str | None
) -> TurnSetup:
    card, card_book = _card(parsed, queries.character(character_id))
    preferences = _preferences(parsed, queries.setting_json(SETTING_KEY))
    record = queries.connection(connection)
    persona_record = _persona_record(queries, preferences)
    text_backend = get_api_type(record.api).family == "text"
    instruct, context = _templates(queries, parsed, preferences) if text_backend else (None, None)
    return TurnSetup(
        card=card,
        preferences=preferences,
        persona=_persona(persona_record),
        record=record,
        lorebooks=_lorebooks(queries, parsed, (card, card_book), persona_record, preferences),
        instruct=instruct,
        context=context,
    )


def _card(parsed: ParsedCache, stored: StoredCard) -> tuple[Card, Lorebook | None]:
    """The card and its embedded lorebook."""

    def parse(text: str) -> tuple[Card, Lorebook | None]:
        card = card_from_dict(json.loads(text), filename=stored.name or "card")
        if not card.character_book:
            return card, None
        return card, lorebook_from_character_book(card.character_book, f"{card.name} (card)")

    return parsed.get(("card", stored.id), stored.card_json, parse)


def _preferences(parsed: ParsedCache, text: str | None) -> GenerationPreferences:
    return parsed.get(("setting", SETTING_KEY), text or "{}", parse_preferences)


def _persona_record(queries: Queries, preferences: GenerationPreferences) -> PersonaRecord | None:
    chosen = None
    if preferences.persona_id is not None:
        chosen = queries.persona(preferences.persona_id)
    return chosen or queries.default_persona()


def load_persona(store: Store, preferences: GenerationPreferences) -> Persona:
    """The persona in use: the chosen one, else the default, else "User"."""
    with store.queries() as queries:
        return _persona(_persona_record(queries, preferences))


def _persona(record: PersonaRecord | None) -> Persona:
    if record is None:
        return Persona()
    return Persona(record.name, record.description, record.position, record.depth, record.role)


def _check_mode(mode: GenerationMode, newest: list[MessageRecord]) -> None:
    if mode == "summarize" and not newest:
        raise ConfigError(
            "there is nothing to summarize: the chat has no messages",
            hint="Chat for a while first; a summary sums up the messages so far",
        )
    if mode not in ("regenerate", "swipe", "continue"):
        return
    if not newest or newest[-1].role != "assistant":
        raise ConfigError(
            f"there is no reply to {mode}",
            hint="Send a message first; regenerate, swipe and continue work on the last reply",
        )


def _stored_books(queries: Queries, parsed: ParsedCache, name: object) -> list[Lorebook]:
    if not isinstance(name, str) or not name:
        return []
    text = queries.lorebook_json(name)
    if text is None:
        return []
    return [parsed.get(("lorebook", name), text, lambda t: lorebook_from_dict(json.loads(t), name))]


def _lorebooks(
    queries: Queries,
    parsed: ParsedCache,
    card: tuple[Card, Lorebook | None],
    persona: PersonaRecord | None,
    preferences: GenerationPreferences,
) -> WorldInfoSources:
    character = [card[1]] if card[1] is not None else []
    character += _stored_books(queries, parsed, card[0].world)
    return WorldInfoSources(
        global_books=[
            book for name in preferences.world_info for book in _stored_books(queries, parsed, name)
        ],
        character_books=character,
        persona_books=_stored_books(queries, parsed, persona.lorebook if persona else None),
    )


def _templates(
    queries: Queries,
    parsed: ParsedCache,
    preferences: GenerationPreferences,
) -> tuple[InstructTemplate | None, ContextTemplate | None]:
    """The chosen templates when they are stored ones (only text backends use them)."""
    instruct = None
    if preferences.instruct_template:
        name = preferences.instruct_template
        text = queries.preset_json("instruct", name)
        if text is not None:
            instruct = parsed.get(
                ("instruct", name), text, lambda t: InstructTemplate.from_dict(json.loads(t))
            )
    context = None
    text = queries.preset_json("context", preferences.context_template)
    if text is not None:
        context = parsed.get(
            ("context", preferences.context_template),
            text,
            lambda t: ContextTemplate.from_dict(json.loads(t)),
        )
    return instruct, context
