"""Importing and exporting SillyTavern files: cards, chats and lorebooks.

Both faces (CLI and server) call these. Imports are all-or-nothing: a file is parsed
completely (a broken one raises ``FormatError`` naming it) before anything is stored, and a
chat is stored in one transaction. Every field we do not model is kept and written back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pytavern.bulk import collection_paused
from pytavern.engine.summaries import METADATA_KEY as SUMMARY_KEY
from pytavern.engine.summaries import put_summary_in_lines, summary_from_lines
from pytavern.formats.cards import (
    Card,
    card_from_dict,
    card_to_json,
    read_card_file,
    write_card_png,
)
from pytavern.formats.charx import DEFAULT_MAX_BYTES
from pytavern.formats.chats import (
    ChatFile,
    ChatHeader,
    chat_to_jsonl,
    new_record,
    parse_chat_jsonl,
)
from pytavern.formats.chats import (
    ChatRecord as ChatLine,
)
from pytavern.formats.worldinfo import Lorebook, lorebook_from_dict, lorebook_to_json, read_lorebook
from pytavern.store import (
    CharacterRecord,
    ChatRecord,
    LorebookRecord,
    MessageRecord,
    NewMessage,
    Store,
)

ST_LINE = "st"
"""Key in a message's ``extra`` holding the SillyTavern line's other fields."""
ST_HEADER = "_st_header"
"""Key in a chat's metadata holding the SillyTavern header's other fields."""
ST_SOURCE = "_st_source"
"""Key in a chat's metadata holding the SHA-256 of the SillyTavern file it was imported from."""
PRIVATE_METADATA = frozenset(
    {ST_HEADER, ST_SOURCE, "last_prompt", "prompt_cache", "connection_profile", SUMMARY_KEY}
)
ST_LINE_ORDER = (
    "name",
    "is_user",
    "is_system",
    "send_date",
    "mes",
    "swipe_id",
    "swipes",
    "swipe_info",
    "extra",
)
MODELLED_LINE_FIELDS = frozenset({"mes", "swipes", "swipe_id", "name", "is_user"})


def import_card(
    store: Store, data: bytes, filename: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> CharacterRecord:
    """Store a character from a card file (PNG with ``chara``/``ccv3``, CharX, or JSON);
    a CharX archive may unpack to ``max_bytes`` at most."""
    card, avatar = read_card_file(data, filename, max_bytes)
    return store.add_character(card.raw, avatar=avatar)


def export_card(store: Store, character_id: int, *, png: bool) -> bytes:
    """A character's card as PNG (with its avatar) or JSON bytes."""
    record = store.get_character(character_id)
    card = card_from_dict(record.card, filename=record.name)
    if png:
        return write_card_png(card, store.character_avatar(character_id))
    return card_to_json(card)


def character_card(record: CharacterRecord) -> Card:
    """The typed card of a stored character."""
    return card_from_dict(record.card, filename=record.name)


def import_lorebook(store: Store, data: bytes, filename: str, name: str | None) -> LorebookRecord:
    """Store a World Info file (named after the file unless ``name`` is given)."""
    book = read_lorebook(data, filename, name)
    return store.save_lorebook(book.name, book.raw)


def export_lorebook(store: Store, name: str) -> bytes:
    """A stored lorebook as SillyTavern World Info JSON."""
    record = store.get_lorebook(name)
    book: Lorebook = lorebook_from_dict(record.data, record.name)
    return lorebook_to_json(book)


def _new_message(line: ChatLine) -> NewMessage:
    swipes = line.swipes or [line.mes]
    active = min(line.swipe_id, len(swipes) - 1) if line.swipes else 0
    if swipes[active] != line.mes:
        swipes = [*swipes[:active], line.mes, *swipes[active + 1 :]]
    rest = {k: v for k, v in line.raw.items() if k not in MODELLED_LINE_FIELDS}
    rest["has_swipes"] = "swipes" in line.raw
    rest["key_order"] = list(line.raw)
    return NewMessage(
        role="user" if line.is_user else "assistant",
        name=line.name,
        swipes=swipes,
        active_swipe=active,
        extra={ST_LINE: rest},
    )


@dataclass(frozen=True, slots=True)
class ChatImport:
    """A parsed SillyTavern chat, ready to store: its title, metadata and messages."""

    title: str
    metadata: dict[str, Any]
    messages: list[NewMessage]


def read_chat_import(data: bytes, filename: str, *, source: str | None = None) -> ChatImport:
    """Parse a SillyTavern chat (JSONL) into what the store keeps; raises ``FormatError``.

    ``source`` (a fingerprint of the file) is kept in the chat's private metadata, so a
    folder import can tell which files it has already imported.
    """
    with collection_paused():  # every line's dicts and message at once
        return _chat_import(data, filename, source)


def _chat_import(data: bytes, filename: str, source: str | None) -> ChatImport:
    parsed = parse_chat_jsonl(data, filename)
    header = dict(parsed.header.raw) if parsed.header else {}
    metadata = dict(header.pop("chat_metadata", None) or {})
    metadata[ST_HEADER] = header
    if source is not None:
        metadata[ST_SOURCE] = source
    found = summary_from_lines([line.extra for line in parsed.messages])
    if found is not None and SUMMARY_KEY not in metadata:
        metadata[SUMMARY_KEY] = found
    title = filename.rsplit("/", 1)[-1].removesuffix(".jsonl")
    return ChatImport(title, metadata, [_new_message(line) for line in parsed.messages])


def import_chat(store: Store, data: bytes, filename: str, character_id: int) -> ChatRecord:
    """Store a SillyTavern chat (JSONL) as a new chat of a character."""
    chat = read_chat_import(data, filename)
    return store.import_chat(
        character_id, title=chat.title, metadata=chat.metadata, messages=chat.messages
    )


def st_line_fields(message: MessageRecord) -> dict[str, Any]:
    """The SillyTavern fields of a message's JSONL line (``is_system``, ``send_date``...):
    the stored ones, or those of a fresh line for a message made here."""
    st = dict(message.extra.get(ST_LINE) or {})
    if not st:
        created = message.created_at or datetime.now(UTC)
        fresh = new_record(
            message.name, message.text, is_user=message.is_user, send_date=_st_date(created)
        )
        st = {k: v for k, v in fresh.raw.items() if k not in MODELLED_LINE_FIELDS}
        st["has_swipes"] = message.swipe_count > 1
    return st


def _line(message: MessageRecord, swipe_texts: dict[int, list[str]]) -> dict[str, Any]:
    st = st_line_fields(message)
    has_swipes = bool(st.pop("has_swipes", False)) or message.swipe_count > 1
    order: list[str] = list(st.pop("key_order", None) or ST_LINE_ORDER)
    line: dict[str, Any] = {"name": message.name, "is_user": message.is_user, **st}
    line["mes"] = message.text
    if has_swipes:
        line["swipe_id"] = message.active_swipe
        line["swipes"] = swipe_texts.get(message.id) or [message.text]  # one swipe: shown
        line.setdefault("swipe_info", [])
    return {k: line[k] for k in order if k in line} | line


def _st_date(moment: datetime) -> str:
    return f"{moment:%B} {moment.day}, {moment.year} {moment:%I:%M%p}".lower().capitalize()


def export_chat(store: Store, chat_id: int) -> bytes:
    """A stored chat as SillyTavern JSONL (header line, then one message per line)."""
    with collection_paused():  # tens of thousands of acyclic lines
        return _chat_jsonl(store, chat_id)


def _chat_jsonl(store: Store, chat_id: int) -> bytes:
    chat = store.get_chat(chat_id)
    character = store.get_character(chat.character_id)
    header = dict(chat.metadata.get(ST_HEADER) or {})
    header.setdefault("user_name", "User")
    header.setdefault("character_name", character.name)
    header.setdefault("create_date", _st_date(chat.created_at))
    header["chat_metadata"] = {k: v for k, v in chat.metadata.items() if k not in PRIVATE_METADATA}
    messages = store.history(chat_id)
    swipe_texts = store.swipe_texts(chat_id)
    lines = [_line(message, swipe_texts) for message in messages]
    put_summary_in_lines(chat.metadata, lines, messages)
    records = [ChatLine(line) for line in lines]
    return chat_to_jsonl(ChatFile(ChatHeader(_ordered_header(header)), records))


def _ordered_header(header: dict[str, Any]) -> dict[str, Any]:
    first = ("user_name", "character_name", "create_date", "chat_metadata")
    return {k: header[k] for k in first if k in header} | {
        k: v for k, v in header.items() if k not in first
    }


def dumps_pretty(value: Any) -> str:
    """Indented JSON for people."""
    return json.dumps(value, indent=2, ensure_ascii=False)
