"""Chats and messages: start, list, read, rename, delete, files in and out; edit messages
and choose swipes."""

from __future__ import annotations

from typing import Any

from pytavern.engine import branches, message_flags, transfer
from pytavern.engine.chat_options import ChatOptions, chat_options, metadata_changes
from pytavern.engine.regex_scripts import regex_edit
from pytavern.engine.services._base import Service
from pytavern.engine.summaries import METADATA_KEY as SUMMARY_KEY
from pytavern.engine.summaries import summary_after_deleting
from pytavern.store import ChatRecord, MessageRecord, SwipeRecord


def chat_public(chat: ChatRecord, group_id: int | None = None) -> dict[str, Any]:
    """A chat as the API shows it (without the metadata kept for pytavern itself);
    ``group_id``: the group whose chat it is, if one's is."""
    return {
        "id": chat.id,
        "character_id": chat.character_id,
        "group_id": group_id,
        "title": chat.title,
        "message_count": chat.message_count,
        "metadata": {k: v for k, v in chat.metadata.items() if k not in transfer.PRIVATE_METADATA},
        "created_at": chat.created_at.isoformat(),
        "updated_at": chat.updated_at.isoformat(),
    }


def swipe_public(swipe: SwipeRecord) -> dict[str, Any]:
    """One swipe as the API shows it."""
    return {
        "index": swipe.index,
        "text": swipe.text,
        "status": swipe.status,
        "reasoning": swipe.reasoning,
        "finish_reason": swipe.finish_reason,
        "error": swipe.error,
        "model": swipe.model,
        "connection": swipe.connection,
        "usage": swipe.usage,
    }


def message_public(message: MessageRecord) -> dict[str, Any]:
    """A message with the swipe it shows."""
    return {
        "id": message.id,
        "chat_id": message.chat_id,
        "position": message.position,
        "role": message.role,
        "name": message.name,
        "text": message.text,
        "active_swipe": message.active_swipe,
        "swipe_count": message.swipe_count,
        "swipe": swipe_public(message.swipe),
        **branches.message_links(message),
        "hidden": message.is_hidden,
    }


class ChatService(Service):
    """Everything about chats."""

    def start(self, character_id: int) -> ChatRecord:
        """Create a chat that opens with the character's greeting."""
        return self._engine.start_chat(character_id)

    def get(self, chat_id: int) -> ChatRecord:
        """One chat."""
        return self._engine.store.get_chat(chat_id)

    def group_id(self, chat_id: int) -> int | None:
        """The id of the group whose chat this is (``None``: a character's own chat)."""
        group = self._engine.store.group_of_chat(chat_id)
        return None if group is None else group.id

    def all(self, character_id: int | None = None) -> list[ChatRecord]:
        """Chats (only ``character_id``'s when given), most recently active first."""
        if character_id is not None:
            self._engine.store.get_character(character_id)
        return self._engine.store.list_chats(character_id)

    def latest(self, character_id: int) -> ChatRecord | None:
        """The character's most recently active chat, if any."""
        return self._engine.store.latest_chat(character_id)

    def history(self, chat_id: int, limit: int | None = None) -> list[MessageRecord]:
        """The chat's messages, oldest first (only the newest ``limit`` when given)."""
        return self._engine.store.history(chat_id, limit=limit)

    def last_message(self, chat_id: int) -> MessageRecord | None:
        """The newest message of the chat."""
        return self._engine.store.last_message(chat_id)

    def rename(self, chat_id: int, title: str) -> ChatRecord:
        """Give a chat a new title."""
        return self._engine.store.update_chat(chat_id, title=title.strip())

    def delete(self, chat_id: int) -> None:
        """Delete a chat and its messages."""
        self._engine.store.delete_chat(chat_id)

    def import_bytes(self, data: bytes, filename: str, character_id: int) -> ChatRecord:
        """Store a SillyTavern chat (JSONL) as a new chat of a character."""
        self._engine.store.get_character(character_id)
        return transfer.import_chat(self._engine.store, data, filename, character_id)

    def export(self, chat_id: int) -> bytes:
        """A chat as SillyTavern JSONL."""
        return transfer.export_chat(self._engine.store, chat_id)

    def branch(self, message_id: int) -> ChatRecord:
        """A new chat sharing the history up to ``message_id`` (SillyTavern's branch)."""
        return branches.create_branch(self._engine.store, message_id)

    def checkpoint(self, message_id: int, name: str = "") -> ChatRecord:
        """A named checkpoint chat at ``message_id``; the chat stays where it is."""
        return branches.create_checkpoint(self._engine.store, message_id, name)

    def links(self, chat_id: int) -> dict[str, Any]:
        """The chat this one was branched from, and its own branches and checkpoints."""
        return branches.chat_links(self._engine.store, chat_id)

    def options(self, chat_id: int) -> dict[str, Any]:
        """The chat's own settings: its bound lorebook, its author's note and its summary."""
        return chat_options(self.get(chat_id).metadata)

    def set_options(self, chat_id: int, options: ChatOptions) -> dict[str, Any]:
        """Change some of the chat's own settings (unset fields stay as they are)."""
        chat, newest = self.get(chat_id), self.last_message(chat_id)
        self._engine.store.merge_chat_metadata(chat_id, metadata_changes(options, chat, newest))
        return self.options(chat_id)

    def last_prompt(self, chat_id: int) -> dict[str, Any] | None:
        """Where the tokens of the last reply's prompt went (None before any reply)."""
        metadata = self.get(chat_id).metadata
        last = self._engine.store.last_prompt(chat_id)
        if last is None:
            return None
        cache = metadata.get("prompt_cache")
        return {**last, "cache": cache} if isinstance(cache, dict) else last


class MessageService(Service):
    """Everything about single messages and their swipes."""

    def get(self, message_id: int) -> MessageRecord:
        """One message."""
        return self._engine.store.get_message(message_id)

    def edit(self, message_id: int, text: str) -> MessageRecord:
        """Replace the text of the swipe shown (its status stays as it was); regex scripts
        that run on edit are applied."""
        message = self.get(message_id)
        text = regex_edit(self._engine.store, message, text)
        return self._engine.store.update_swipe(
            message_id, message.active_swipe, text=text, status=message.swipe.status
        )

    def delete(self, message_id: int) -> None:
        """Delete a message and its swipes; a chat summary made at it goes, and the one
        before it (if any) is the chat's again."""
        store = self._engine.store
        message = store.get_message(message_id)
        store.delete_message(message_id)
        metadata = store.get_chat(message.chat_id).metadata
        after = summary_after_deleting(metadata, message)
        if after is not metadata.get(SUMMARY_KEY):
            store.merge_chat_metadata(message.chat_id, {SUMMARY_KEY: after})

    def swipes(self, message_id: int) -> list[SwipeRecord]:
        """Every swipe of a message."""
        self.get(message_id)
        return self._engine.store.list_swipes(message_id)

    def show_swipe(self, message_id: int, index: int) -> MessageRecord:
        """Show another swipe of a message."""
        return self._engine.store.set_active_swipe(message_id, index)

    def hide(self, message_id: int, hidden: bool) -> MessageRecord:
        """Leave a message out of the prompt (``hidden``), or put it back; it stays in the chat."""
        return message_flags.set_hidden(self._engine.store, message_id, hidden)
