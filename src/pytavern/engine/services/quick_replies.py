"""Quick replies: sets in and out, which ones show, and what a button does in a chat."""

from __future__ import annotations

from typing import Any

from pytavern.engine import quick_replies as kept
from pytavern.engine.preferences import load_preferences
from pytavern.engine.regex_scripts import regex_user_input
from pytavern.engine.services._base import Service
from pytavern.engine.turn_loader import load_persona
from pytavern.errors import NotFoundError
from pytavern.formats.quick_replies import QuickReplySet, read_set, write_set
from pytavern.prompt.macros import MacroContext
from pytavern.store import MessageRecord


def set_public(reply_set: QuickReplySet, active: bool) -> dict[str, Any]:
    """A set as the faces show it: its buttons and whether they show."""
    return {
        "name": reply_set.name,
        "active": active,
        "disable_send": reply_set.disable_send,
        "replies": [
            {
                "id": r.id,
                "label": r.label,
                "title": r.title,
                "message": r.message,
                "problem": kept.script_problem(r.message),
            }
            for r in reply_set.replies
            if not r.hidden
        ],
    }


class QuickReplyService(Service):
    """Everything about quick replies (SillyTavern's Quick Reply extension)."""

    def all(self) -> list[dict[str, Any]]:
        """Every stored set, with its visible buttons and whether it is active."""
        settings = kept.load_settings(self._engine.store)
        return [set_public(s, s.name in settings.active) for s in kept.stored_sets(settings)]

    def import_bytes(self, data: bytes) -> QuickReplySet:
        """Store a SillyTavern quick-reply set (replacing one of the same name); it shows."""
        reply_set = read_set(data)
        settings = kept.load_settings(self._engine.store)
        others = [raw for raw in settings.sets if raw.get("name") != reply_set.name]
        settings.sets = [*others, reply_set.to_dict()]
        if reply_set.name not in settings.active:
            settings.active.append(reply_set.name)
        kept.save_settings(self._engine.store, settings)
        return reply_set

    def export(self, name: str) -> bytes:
        """A stored set as a SillyTavern file."""
        return write_set(kept.find_set(kept.load_settings(self._engine.store), name))

    def set_active(self, name: str, active: bool) -> None:
        """Show or hide a set's buttons."""
        settings = kept.load_settings(self._engine.store)
        kept.find_set(settings, name)
        settings.active = [n for n in settings.active if n != name] + ([name] if active else [])
        kept.save_settings(self._engine.store, settings)

    def delete(self, name: str) -> None:
        """Delete a set."""
        settings = kept.load_settings(self._engine.store)
        kept.find_set(settings, name)
        settings.sets = [raw for raw in settings.sets if raw.get("name") != name]
        settings.active = [n for n in settings.active if n != name]
        kept.save_settings(self._engine.store, settings)

    def plan(self, chat_id: int, set_name: str, reply_id: int, typed: str = "") -> list[kept.Step]:
        """What pressing a button in ``chat_id`` does (checked, macros substituted)."""
        store = self._engine.store
        reply_set = kept.find_set(kept.load_settings(store), set_name)
        reply = next((r for r in reply_set.replies if r.id == reply_id), None)
        if reply is None:
            raise NotFoundError(f"the set {set_name!r} has no quick reply with id {reply_id}")
        chat = store.get_chat(chat_id)
        character = store.get_character(chat.character_id)
        persona = load_persona(store, load_preferences(store))
        ctx = MacroContext(user=persona.name, char=character.name, chat_id=str(chat_id))
        return kept.plan(reply_set, reply, ctx, typed)

    def add_user_message(self, chat_id: int, text: str) -> MessageRecord:
        """``/send``: the user's message added to the chat (user-input regex scripts
        applied), with no reply asked for."""
        store = self._engine.store
        store.get_chat(chat_id)
        persona = load_persona(store, load_preferences(store))
        text = regex_user_input(store, chat_id, text)
        return store.append_message(chat_id, role="user", name=persona.name, text=text)
