"""The Data Bank's documents: attached to every chat, a character or one chat."""

from __future__ import annotations

from typing import Any

from pytavern.engine.databank import chunk_text, document_text
from pytavern.engine.preferences import load_preferences
from pytavern.engine.services._base import Service
from pytavern.errors import ConfigError
from pytavern.store import DocumentRecord

MAX_NAME = 500


def document_public(document: DocumentRecord) -> dict[str, Any]:
    """A document as the faces show it (without its text)."""
    return {
        "id": document.id,
        "name": document.name,
        "scope": document.scope,
        "character_id": document.character_id,
        "chat_id": document.chat_id,
        "enabled": document.enabled,
        "length": document.length,
        "chunks": document.chunks,
        "created_at": document.created_at.isoformat(),
    }


class DatabankService(Service):
    """Adding, listing, switching and removing the Data Bank's documents."""

    def add_file(
        self,
        filename: str,
        data: bytes,
        *,
        name: str | None = None,
        character_id: int | None = None,
        chat_id: int | None = None,
    ) -> DocumentRecord:
        """Attach a text file (``.txt``, ``.md``, ``.html``, ``.json``, ``.csv``), a PDF, a
        ``.docx`` or an ``.epub`` named ``name`` (default: ``filename``): to every chat, or
        to ``character_id``'s chats, or to ``chat_id``."""
        text = document_text(filename, data)
        return self.add_text(name or filename, text, character_id=character_id, chat_id=chat_id)

    def add_text(
        self,
        name: str,
        text: str,
        *,
        character_id: int | None = None,
        chat_id: int | None = None,
    ) -> DocumentRecord:
        """Attach ``text`` as a document named ``name`` (scoped as ``add_file``)."""
        store = self._engine.store
        name = name.strip()[:MAX_NAME] or "Untitled"
        if character_id is not None and chat_id is not None:
            raise ConfigError(
                "a document belongs to a character or to a chat, not both",
                hint="Give either the character or the chat",
            )
        if character_id is not None:
            store.get_character(character_id)
        if chat_id is not None:
            store.get_chat(chat_id)
        size = load_preferences(store).databank.chunk_size
        chunks = chunk_text(text, size)
        if not chunks:
            raise ConfigError(f"{name} has no text", hint="Attach a file that holds some text")
        return store.add_document(
            name, text.strip(), chunks, character_id=character_id, chat_id=chat_id
        )

    def start_vectors(self, document_id: int) -> None:
        """``make_vectors`` in the background (a large document with a slow model takes
        minutes; turns make what is still missing meanwhile)."""
        self._engine.in_background(self.make_vectors(document_id))

    async def make_vectors(self, document_id: int) -> int:
        """Make the vectors of a document's chunks for the search by meaning, when an
        embedding connection is set; how many were made (0 on failure: turns make the
        missing ones)."""
        from pytavern.engine.databank_vectors import embed_document  # numpy: on first use

        engine = self._engine
        prefs = load_preferences(engine.store)
        return await embed_document(engine.store, engine.providers, prefs, document_id)

    def list(
        self, *, character_id: int | None = None, chat_id: int | None = None
    ) -> list[DocumentRecord]:
        """The documents a chat may use (given ``chat_id``: global ones, its character's
        or, in a group's chat, every member's, and its own), else the global ones and
        ``character_id``'s; with neither, every document."""
        store = self._engine.store
        if chat_id is not None:
            chat = store.get_chat(chat_id)
            group = store.group_of_chat(chat_id)
            members = group.member_ids if group is not None else []
            characters = list(dict.fromkeys([chat.character_id, *members]))
            return store.list_documents(character_ids=characters, chat_id=chat_id)
        if character_id is not None:
            store.get_character(character_id)
            return store.list_documents(character_ids=[character_id])
        return store.all_documents()

    def get(self, document_id: int) -> DocumentRecord:
        """One document."""
        return self._engine.store.get_document(document_id)

    def text(self, document_id: int) -> str:
        """A document's whole text."""
        return self._engine.store.document_text(document_id)

    def enable(self, document_id: int, enabled: bool) -> DocumentRecord:
        """Let the prompt use a document, or leave it out (it stays attached)."""
        return self._engine.store.set_document_enabled(document_id, enabled)

    def remove(self, document_id: int) -> None:
        """Remove a document."""
        self._engine.store.delete_document(document_id)
