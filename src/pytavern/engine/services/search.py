"""Search across every chat: the messages holding all the words asked for, newest first."""

from __future__ import annotations

from typing import Any

from pytavern.engine.services._base import Service
from pytavern.store.search import SearchHit, query_words, search_messages

SNIPPET_CHARS = 160


def snippet(text: str, words: list[str], width: int = SNIPPET_CHARS) -> str:
    """The part of ``text`` around the first word searched for (``…`` where it is cut)."""
    lowered = text.lower()
    starts = [lowered.find(word.lower()) for word in words]
    first = min((s for s in starts if s >= 0), default=0)
    begin = max(0, first - width // 3)
    end = min(len(text), begin + width)
    cut = " ".join(text[begin:end].split())
    return ("…" if begin else "") + cut + ("…" if end < len(text) else "")


def hit_public(hit: SearchHit, words: list[str]) -> dict[str, Any]:
    """A search hit as the faces show it (with a snippet, not the whole text)."""
    return {
        "message_id": hit.message_id,
        "chat_id": hit.chat_id,
        "position": hit.position,
        "role": hit.role,
        "name": hit.name,
        "chat_title": hit.chat_title,
        "character_id": hit.character_id,
        "character_name": hit.character_name,
        "snippet": snippet(hit.text, words),
    }


class SearchService(Service):
    """Full-text search over the chats this user can see."""

    def messages(
        self, query: str, *, character_id: int | None = None, limit: int = 50
    ) -> list[SearchHit]:
        """Messages whose shown text holds every word of ``query``, newest first."""
        store = self._engine.store
        if character_id is not None:
            store.get_character(character_id)
        return search_messages(
            store.engine, store.owner_id, query, character_id=character_id, limit=limit
        )

    def public(
        self, query: str, *, character_id: int | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """The hits as the CLI's ``--json`` and the REST API give them."""
        words = query_words(query)
        hits = self.messages(query, character_id=character_id, limit=limit)
        return [hit_public(hit, words) for hit in hits]
