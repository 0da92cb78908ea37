"""Branches and checkpoints, as SillyTavern keeps them.

A branch or a checkpoint is a new chat of the same character holding the history up to one
message. Its metadata names the chat it came from (``main_chat``: that chat's title, which is
its SillyTavern file name); the message it was made at records it in its SillyTavern
``extra``: ``branches`` (a list of chat names) or ``bookmark_link`` (the checkpoint's name).
Both travel with the chats through SillyTavern JSONL export and import.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pytavern.engine.summaries import METADATA_KEY as SUMMARY_KEY
from pytavern.engine.summaries import summary_for_copy
from pytavern.engine.transfer import PRIVATE_METADATA, ST_HEADER, ST_LINE, ST_SOURCE
from pytavern.errors import ConfigError
from pytavern.formats.chats import new_record
from pytavern.store import ChatRecord, MessageRecord, NewMessage, Store
from pytavern.store.message_extra import change_message_extra

MAIN_CHAT = "main_chat"
CHECKPOINT_TOKEN = "Checkpoint #"
_NOT_COPIED = PRIVATE_METADATA | {ST_HEADER, ST_SOURCE}


def humanized(moment: datetime | None = None) -> str:
    """SillyTavern's ``humanizedDateTime``: ``2024-09-28@12h05m09s``."""
    moment = moment or datetime.now(UTC)
    return f"{moment:%Y-%m-%d@%Hh%Mm%Ss}"


def _copy(store: Store, message: MessageRecord) -> NewMessage:
    swipes = (
        [swipe.text for swipe in store.list_swipes(message.id)]
        if message.swipe_count > 1
        else [message.text]
    )
    return NewMessage(
        role=message.role,
        name=message.name,
        swipes=swipes,
        active_swipe=min(message.active_swipe, len(swipes) - 1),
        extra=dict(message.extra),
    )


def _upto(store: Store, message: MessageRecord) -> list[MessageRecord]:
    history = store.history(message.chat_id)
    index = next(i for i, m in enumerate(history) if m.id == message.id)
    return history[: index + 1]


def named_uniquely(store: Store, chat: ChatRecord) -> ChatRecord:
    """``chat`` with a title no other chat of its character has, as ``main_chat`` needs
    (a new chat is titled after its character; it becomes ``Name - 2024-09-28@12h05m09s``,
    SillyTavern's file name for a new chat)."""
    others = {c.title for c in store.list_chats(chat.character_id) if c.id != chat.id}
    if chat.title and chat.title not in others:
        return chat
    base = f"{store.get_character(chat.character_id).name} - {humanized(chat.created_at)}"
    return store.update_chat(chat.id, title=free_title(base, others))


def free_title(title: str, taken: set[str]) -> str:
    """``title``, or ``title (2)``, ``(3)``... the first that is not ``taken``."""
    found, number = title, 1
    while found in taken:
        number += 1
        found = f"{title} ({number})"
    return found


def _fork(store: Store, message: MessageRecord, title: str) -> ChatRecord:
    chat = named_uniquely(store, store.get_chat(message.chat_id))
    title = free_title(title, {c.title for c in store.list_chats(chat.character_id)})
    metadata = {k: v for k, v in chat.metadata.items() if k not in _NOT_COPIED}
    metadata[MAIN_CHAT] = chat.title
    originals = _upto(store, message)
    copies = [_copy(store, m) for m in originals]
    fork = store.import_chat(chat.character_id, title=title, metadata=metadata, messages=copies)
    if SUMMARY_KEY not in chat.metadata:
        return fork
    summary = summary_for_copy(
        chat.metadata[SUMMARY_KEY], originals, [m.id for m in store.history(fork.id)]
    )
    if summary is None:
        return fork
    store.merge_chat_metadata(fork.id, {SUMMARY_KEY: summary})
    return store.get_chat(fork.id)


def _st_extra(message: MessageRecord, extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` (the message's stored one) with its SillyTavern line made complete."""
    st = dict(extra.get(ST_LINE) or {})
    if not st:
        created = message.created_at or datetime.now(UTC)
        fresh = new_record(
            message.name, message.text, is_user=message.is_user, send_date=created.isoformat()
        )
        st = {k: v for k, v in fresh.raw.items() if k not in ("mes", "swipes", "swipe_id")}
        st["has_swipes"] = message.swipe_count > 1
    if not isinstance(st.get("extra"), dict):
        st["extra"] = {}
    return {**extra, ST_LINE: st}


def _mark(store: Store, message: MessageRecord, key: str, name: str) -> None:
    def change(extra: dict[str, Any]) -> dict[str, Any]:
        extra = _st_extra(message, extra)
        line_extra = dict(extra[ST_LINE]["extra"])
        if key == "branches":
            known = line_extra.get("branches")
            line_extra["branches"] = [*(known if isinstance(known, list) else []), name]
        else:
            line_extra[key] = name
        extra[ST_LINE] = {**extra[ST_LINE], "extra": line_extra}
        return extra

    change_message_extra(store, message.id, change)


def create_branch(store: Store, message_id: int) -> ChatRecord:
    """A new chat with the history up to ``message_id``, named as SillyTavern names it."""
    message = store.get_message(message_id)
    index = len(_upto(store, message)) - 1
    name = f"Branch #{index} - {humanized()}"
    branch = _fork(store, message, name)
    _mark(store, message, "branches", branch.title)
    return branch


def create_checkpoint(store: Store, message_id: int, name: str = "") -> ChatRecord:
    """A named checkpoint at ``message_id`` (``Checkpoint #N`` when no name is given)."""
    message = store.get_message(message_id)
    chat = store.get_chat(message.chat_id)
    name = " ".join(name.split())
    if len(name) > 200:
        raise ConfigError("a checkpoint name has at most 200 characters")
    if not name:
        titles = {c.title for c in store.list_chats(chat.character_id)}
        number = len(titles)
        while f"{CHECKPOINT_TOKEN}{number}" in titles:
            number += 1
        name = f"{CHECKPOINT_TOKEN}{number}"
    title = f"{name} - {humanized()}"
    checkpoint = _fork(store, message, title)
    _mark(store, message, "bookmark_link", checkpoint.title)
    return checkpoint


def chat_links(store: Store, chat_id: int) -> dict[str, Any]:
    """Where a chat came from (``main``) and the branches/checkpoints made from it."""
    chat = store.get_chat(chat_id)
    siblings = store.list_chats(chat.character_id)
    main_title = chat.metadata.get(MAIN_CHAT)
    main = next((c for c in siblings if main_title and c.title == main_title), None)
    children = [c for c in siblings if c.id != chat.id and c.metadata.get(MAIN_CHAT) == chat.title]
    return {
        "main": {"id": main.id, "title": main.title} if main else None,
        "main_title": main_title if isinstance(main_title, str) else None,
        "children": [
            {"id": c.id, "title": c.title, "kind": _kind(c.title)}
            for c in sorted(children, key=lambda c: c.id)
        ],
    }


def _kind(title: str) -> str:
    return "branch" if title.startswith("Branch #") else "checkpoint"


def message_links(message: MessageRecord) -> dict[str, Any]:
    """The branches and checkpoint a message records (SillyTavern's ``extra``)."""
    line_extra = (message.extra.get(ST_LINE) or {}).get("extra")
    line_extra = line_extra if isinstance(line_extra, dict) else {}
    branches = line_extra.get("branches")
    link = line_extra.get("bookmark_link")
    return {
        "branches": [b for b in branches if isinstance(b, str)]
        if isinstance(branches, list)
        else [],
        "checkpoint": link if isinstance(link, str) and link else None,
    }
