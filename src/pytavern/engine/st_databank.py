"""SillyTavern's Data Bank attachments in a user folder, in and out.

SillyTavern lists an attachment as ``{url, size, name, created}`` (``url`` like
``/user/files/notes-1712345678901.txt``, ``name`` the name shown): the global ones in
``settings.json`` (``extension_settings.attachments``), a character's under its card's file
name (``extension_settings.character_attachments``), a chat's in its metadata
(``chat_metadata.attachments``); the urls of switched-off ones in
``extension_settings.disabled_attachments``. The text lives in ``user/files/`` under the
url's last part. Importing again imports nothing twice: a document is known by whose it is,
its name and its text. A chat's ``attachments`` are not kept in its metadata: the documents
are the truth, and ``export-all`` lists them afresh.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from pytavern.engine.databank import TEXT_SUFFIXES, chunk_text, document_text
from pytavern.engine.preferences import load_preferences
from pytavern.errors import FormatError, NotFoundError, PytavernError
from pytavern.formats._json import js_dumps, load_json_object
from pytavern.store import DocumentRecord, Store

if TYPE_CHECKING:
    from pytavern.engine.st_import import ImportSummary

FILES = "user/files"
"""Where a SillyTavern user folder keeps the attachments' text."""
KIND = "documents"
"""What the import summary and export counts call them."""
METADATA_KEY = "attachments"
NAME_LENGTH = 500
"""The longest document name the store keeps."""
PLAIN_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".csv"})
"""Suffixes an exported file keeps (its text reads back as it is); others become .txt."""
_URL_UNSAFE = re.compile(r"[^\w.-]+", re.ASCII)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A Data Bank attachment as SillyTavern lists it."""

    url: str
    name: str
    text: str | None = None
    """The text, when the listing carries it (used when the file is missing)."""
    created: datetime | None = None
    """When it was attached (SillyTavern's ``created``, milliseconds)."""

    @property
    def file(self) -> str:
        """The file's name in ``user/files/`` (the url's last part)."""
        return PurePosixPath(self.url).name


def read_attachments(value: Any) -> list[Attachment]:
    """The attachments of a ``FileAttachment[]`` value (what has no url is left out)."""
    if not isinstance(value, list):
        return []
    found = []
    for item in value:
        if isinstance(item, dict) and isinstance(item.get("url"), str) and item["url"]:
            name = item.get("name")
            text = item.get("text")
            found.append(
                Attachment(
                    item["url"],
                    name if isinstance(name, str) and name.strip() else "",
                    text if isinstance(text, str) else None,
                    _moment(item.get("created")),
                )
            )
    return found


def _moment(millis: Any) -> datetime | None:
    """A SillyTavern timestamp (milliseconds since 1970) as a time, if it is one."""
    if isinstance(millis, bool) or not isinstance(millis, int | float) or millis <= 0:
        return None
    try:
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def take_chat_attachments(metadata: dict[str, Any]) -> list[Attachment]:
    """A chat's attachments, taken out of its metadata (left there when not a list)."""
    if not isinstance(metadata.get(METADATA_KEY), list):
        return []
    return read_attachments(metadata.pop(METADATA_KEY))


def header_attachments(data: bytes) -> list[Attachment]:
    """The attachments a SillyTavern chat file's first line lists (none when unreadable)."""
    try:
        header = json.loads(data.split(b"\n", 1)[0])
    except ValueError:
        return []
    metadata = header.get("chat_metadata") if isinstance(header, dict) else None
    return read_attachments(metadata.get(METADATA_KEY)) if isinstance(metadata, dict) else []


def _plain_file_name(name: str) -> bool:
    """Whether ``name`` names a file in the folder itself (no ``..``, no separator)."""
    return name not in ("", ".", "..") and "/" not in name and "\\" not in name


def attachment_text(files: Path, attachment: Attachment) -> str:
    """An attachment's text from its file in ``files`` (HTML and JSON read as the Data Bank
    reads them, the rest as text); raise ``NotFoundError`` when there is no file."""
    for base in dict.fromkeys((attachment.file, unquote(attachment.file))):
        path = files / base
        if _plain_file_name(base) and path.is_file():
            readable = PurePath(base).suffix.lower() in TEXT_SUFFIXES
            return document_text(base if readable else f"{base}.txt", path.read_bytes())
    if attachment.text:
        return attachment.text
    raise NotFoundError(f"{FILES}/{attachment.file} is missing")


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose attachments are: every chat's, a character's or a chat's (``ident`` its id,
    or ``None`` when it is not stored, as in a dry run), and how the summary names it."""

    kind: str
    where: str
    ident: int | None = None

    @property
    def key(self) -> tuple[str, int | str | None]:
        """Whose, as the import tells documents apart."""
        if self.kind == "global":
            return ("global", None)
        return (self.kind, self.ident if self.ident is not None else f"new {self.where}")

    @property
    def character_id(self) -> int | None:
        """The character's id, for a character's attachments."""
        return self.ident if self.kind == "character" else None

    @property
    def chat_id(self) -> int | None:
        """The chat's id, for a chat's attachments."""
        return self.ident if self.kind == "chat" else None


def _document_key(owner: tuple[str, int | str | None], name: str, text: str) -> tuple[Any, ...]:
    """Whose, name and text (line ends as a file reads back: a text typed with ``\\r\\n``
    is the same document when it comes back from an export)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return (owner, name, hashlib.sha256(lines.encode("utf-8")).hexdigest())


def _stored_key(store: Store, document: DocumentRecord) -> tuple[Any, ...]:
    ident = document.chat_id if document.scope == "chat" else document.character_id
    owner = (document.scope, ident)
    return _document_key(owner, document.name, store.document_text(document.id))


@dataclass
class DatabankImport:
    """The Data Bank attachments of one folder import: the chats' are gathered as the chats
    are read, and all are imported last (``run``), once the cards and chats are stored."""

    store: Store
    root: Path
    summary: ImportSummary
    chats: list[tuple[Owner, list[Attachment]]] = field(default_factory=list)
    _known: set[tuple[Any, ...]] | None = None
    _chunk_size: int = 0

    def chat(self, where: str, chat_id: int | None, attachments: list[Attachment]) -> None:
        """Note a chat's attachments (``chat_id`` ``None`` when it is not stored: in a dry
        run, they are counted)."""
        if attachments and (chat_id is not None or self.summary.dry_run):
            self.chats.append((Owner("chat", where, chat_id), attachments))

    def run(self, settings: dict[str, Any], cards: dict[str, int | None]) -> None:
        """Import the attachments of ``settings`` (a ``settings.json``) and of the chats;
        ``cards`` gives the id of each card file name read (``None`` when not stored)."""
        extension = settings.get("extension_settings")
        extension = extension if isinstance(extension, dict) else {}
        disabled = extension.get("disabled_attachments")
        off = {u for u in disabled if isinstance(u, str)} if isinstance(disabled, list) else set()
        owners = [
            (Owner("global", "settings.json"), read_attachments(extension.get("attachments")))
        ]
        owners += self.characters(extension.get("character_attachments"), cards)
        for owner, attachments in [*owners, *self.chats]:
            for attachment in attachments:
                self.one(owner, attachment, enabled=attachment.url not in off)

    def characters(
        self, value: Any, cards: dict[str, int | None]
    ) -> list[tuple[Owner, list[Attachment]]]:
        """The owners and attachments of ``character_attachments`` whose card was read."""
        if not isinstance(value, dict):
            return []
        owners = []
        for avatar, listed in value.items():
            attachments = read_attachments(listed)
            card = PurePosixPath(str(avatar)).name
            if card in cards:
                owners.append((Owner("character", card, cards[card]), attachments))
            elif attachments:
                reason = f"Data Bank attachments of {card}: no such card was read from characters/"
                self.summary.skipped.append(("settings.json", reason))
        return owners

    def one(self, owner: Owner, attachment: Attachment, *, enabled: bool) -> None:
        """Import one attachment unless it is kept already; list it as skipped when its
        file is missing or unreadable."""
        shown = attachment.name or attachment.file
        where = f"{FILES}/{attachment.file}"
        try:
            text = attachment_text(self.root / FILES, attachment).strip()
        except NotFoundError:
            self.skip(where, f"the file of {shown} ({owner.where}) is missing")
            return
        except (PytavernError, OSError) as error:
            self.skip(where, f"the file of {shown} ({owner.where}) cannot be read ({error})")
            return
        chunks = chunk_text(text, self.chunk_size())
        if not chunks:
            self.skip(where, f"{shown} ({owner.where}) has no text")
            return
        name = shown.strip()[:NAME_LENGTH]
        self.add(owner, name, text, chunks, enabled=enabled, created=attachment.created)

    def add(
        self,
        owner: Owner,
        name: str,
        text: str,
        chunks: list[str],
        *,
        enabled: bool,
        created: datetime | None = None,
    ) -> None:
        """Store a document unless one of the owner's has that name and text; count it."""
        key = _document_key(owner.key, name, text)
        known = self.known()
        new = key not in known
        (self.summary.imported if new else self.summary.present)[KIND] += 1
        known.add(key)
        if not new or self.summary.dry_run:
            return
        record = self.store.add_document(
            name,
            text,
            chunks,
            character_id=owner.character_id,
            chat_id=owner.chat_id,
            created_at=created,
        )
        if not enabled:
            self.store.set_document_enabled(record.id, False)

    def skip(self, where: str, reason: str) -> None:
        """List an attachment as skipped."""
        self.summary.skipped.append((where, reason))

    def known(self) -> set[tuple[Any, ...]]:
        """The documents kept (read once, and added to as the import goes)."""
        if self._known is None:
            self._known = {_stored_key(self.store, d) for d in self.store.all_documents()}
        return self._known

    def chunk_size(self) -> int:
        """The Data Bank settings' chunk size (read once)."""
        if not self._chunk_size:
            self._chunk_size = load_preferences(self.store).databank.chunk_size
        return self._chunk_size


def settings_of(path: Path) -> dict[str, Any]:
    """A ``settings.json`` as a mapping (empty when missing or broken: the import lists it
    as broken where it reads the personas)."""
    try:
        return load_json_object(path.read_bytes(), path.name, "settings")
    except (OSError, FormatError):
        return {}


@dataclass
class DatabankExport:
    """The documents written to ``user/files/``, listed as SillyTavern lists them."""

    settings: dict[str, Any]
    """``attachments``, ``character_attachments`` and ``disabled_attachments``."""
    chats: dict[int, list[dict[str, Any]]]
    count: int

    def chat_file(self, chat_id: int, data: bytes) -> bytes:
        """A chat file with ``chat_metadata.attachments`` the chat's documents (none left
        from its import when it has none)."""
        end = data.find(b"\n")
        end = len(data) if end < 0 else end
        if chat_id not in self.chats and b'"attachments"' not in data[:end]:
            return data
        header = json.loads(data[:end])
        metadata = header.setdefault("chat_metadata", {})
        metadata.pop(METADATA_KEY, None)
        if chat_id in self.chats:
            metadata[METADATA_KEY] = self.chats[chat_id]
        return js_dumps(header).encode("utf-8") + data[end:]


def _file_name(name: str, taken: set[str]) -> str:
    path = PurePath(name)
    plain = path.suffix.lower() in PLAIN_SUFFIXES
    suffix = path.suffix if plain else ".txt"
    stem = _URL_UNSAFE.sub("_", path.stem if plain else name).strip("._")[:100] or "document"
    candidate, number = f"{stem}{suffix}", 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{stem}-{number}{suffix}"
    taken.add(candidate.lower())
    return candidate


def _millis(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def export_documents(store: Store, out: Path, avatars: dict[int, str]) -> DatabankExport:
    """Write every document to ``out/user/files/`` and list it as SillyTavern does:
    characters' under their card's file name (``avatars``: character id to file name)."""
    listed: list[dict[str, Any]] = []
    characters: dict[str, list[dict[str, Any]]] = {}
    chats: dict[int, list[dict[str, Any]]] = {}
    disabled: list[str] = []
    taken: set[str] = set()
    documents = store.all_documents()
    for document in documents:
        entry = _write_document(store, document, out, taken)
        if document.chat_id is not None:
            chats.setdefault(document.chat_id, []).append(entry)
        elif document.character_id is not None:
            characters.setdefault(avatars[document.character_id], []).append(entry)
        else:
            listed.append(entry)
        if not document.enabled:
            disabled.append(entry["url"])
    settings = {
        "attachments": listed,
        "character_attachments": characters,
        "disabled_attachments": disabled,
    }
    return DatabankExport(settings, chats, len(documents))


def _write_document(
    store: Store, document: DocumentRecord, out: Path, taken: set[str]
) -> dict[str, Any]:
    data = store.document_text(document.id).encode("utf-8")
    file = _file_name(document.name, taken)
    path = out / FILES / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {
        "url": f"/{FILES}/{file}",
        "size": len(data),
        "name": document.name,
        "created": _millis(document.created_at),
    }
