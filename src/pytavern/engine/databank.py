"""The Data Bank: documents the prompt draws on (``DatabankSettings``).

A document (a text file, Markdown, HTML, JSON, CSV, a PDF's text, or text typed in) is
attached to every chat, to a character's chats or to one chat; it is cut into chunks of
about ``chunk_size`` characters at paragraph, line, sentence or word ends. On each turn the
words of the newest messages are looked up in the chunks of the documents the chat may
use (``pytavern.store.databank``), and the best chunks go into the prompt as SillyTavern
puts its Data Bank's (``4_vectors_data_bank``). The lookup runs on the machine's own word
index: no embedding model, no network; or, with an embedding connection set, by meaning
(``pytavern.engine.databank_vectors``, run before the build: its chunks come in
``found``). A turn in a chat with no document in reach costs a dictionary lookup (the
documents' places are kept per library revision).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import PurePath

from pytavern.engine.preferences import DatabankSettings
from pytavern.engine.recall import recall_words
from pytavern.engine.summaries import POSITIONS
from pytavern.errors import ConfigError
from pytavern.prompt.inputs import PromptInput, Recall
from pytavern.prompt.worldinfo import ROLES
from pytavern.store import Store
from pytavern.store.databank import find_chunks

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
"""The largest file the Data Bank takes (its text is kept whole, and in chunks)."""
TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".json", ".csv", ""})
"""The text files the Data Bank reads."""
READ_SUFFIXES = TEXT_SUFFIXES | {".pdf", ".docx", ".epub"}
"""The files whose text the Data Bank reads (others: convert them to text first)."""
_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?])\s+"))
"""Where a text is cut, best first: paragraphs, lines, sentences (then words, then
anywhere)."""

Scopes = tuple[bool, frozenset[int], frozenset[int]]
_scopes: dict[tuple[int, int], tuple[str | None, Scopes]] = {}
"""Per store and owner: the library revision read at, and where documents are then."""


def document_text(filename: str, data: bytes) -> str:
    """The text of a file for the Data Bank: plain text as it is (UTF-8), HTML without its
    markup, JSON pretty-printed, a PDF's text layer, a Word document's or an e-book's
    paragraphs; raise ``ConfigError`` for anything else."""
    suffix = PurePath(filename).suffix.lower()
    if suffix not in READ_SUFFIXES:
        raise ConfigError(
            f"the Data Bank reads text files, PDFs, .docx and .epub files, not {suffix} files",
            hint="Save it as text (.txt, .md, .html, .json, .csv), PDF or .docx and attach that",
        )
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ConfigError(
            f"{filename} is {len(data) / 1024 / 1024:.1f} MB; the Data Bank takes at most "
            f"{MAX_DOCUMENT_BYTES // 1024 // 1024} MB",
            hint="Attach the parts that matter, or split it into several files",
        )
    if suffix == ".pdf":
        from pytavern.engine.pdf_text import pdf_text  # only when one is attached

        return pdf_text(filename, data)
    if suffix in (".docx", ".epub"):
        from pytavern.engine.office_text import docx_text, epub_text  # only when attached

        return (docx_text if suffix == ".docx" else epub_text)(filename, data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{filename} is not UTF-8 text", hint="Save it as UTF-8 text and attach it again"
        ) from error
    if suffix in (".html", ".htm"):
        from pytavern.engine.html_text import html_text  # only when one is attached

        return html_text(text)
    if suffix == ".json":
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError as error:
            raise ConfigError(
                f"{filename} is not valid JSON ({error})", hint="Fix it, or attach it as .txt"
            ) from error
    return text.replace("\r\n", "\n").replace("\r", "\n")


def chunk_text(text: str, size: int) -> list[str]:
    """``text`` cut into chunks of at most ``size`` characters, at the best breaks there
    are (paragraphs, then lines, sentences, words), blank ones left out."""
    return [chunk for chunk in _cut(text.strip(), size, 0) if chunk]


def _cut(text: str, size: int, level: int) -> list[str]:
    if len(text) <= size:
        return [text.strip()]
    if level == len(_BREAKS):
        return _cut_words(text, size)
    pieces = [piece.strip() for piece in _BREAKS[level].split(text) if piece.strip()]
    joiner = "\n\n" if level == 0 else "\n" if level == 1 else " "
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if len(piece) > size:
            if current:
                chunks.append(current)
                current = ""
            chunks.extend(_cut(piece, size, level + 1))
        elif not current:
            current = piece
        elif len(current) + len(joiner) + len(piece) <= size:
            current += joiner + piece
        else:
            chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def _cut_words(text: str, size: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > size:  # a "word" longer than a chunk: cut anywhere
            if current:
                chunks.append(current)
                current = ""
            chunks.append(word[:size])
            word = word[size:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= size:
            current += " " + word
        else:
            chunks.append(current)
            current = word
    if current:
        chunks.append(current)
    return chunks


def documents_in_reach(
    store: Store, revision: str | None, character_ids: tuple[int, ...], chat_id: int
) -> bool:
    """Whether the owner has an enabled document for this chat (global, of one of
    ``character_ids``, or the chat's own), read once per library revision."""
    key = (id(store.engine), store.owner_id)
    kept = _scopes.get(key)
    if kept is None or revision is None or kept[0] != revision:
        kept = (revision, store.databank_scopes())
        _scopes[key] = kept
    has_global, characters, chats = kept[1]
    return has_global or chat_id in chats or any(c in characters for c in character_ids)


def with_databank(
    store: Store,
    inp: PromptInput,
    settings: DatabankSettings,
    *,
    chat_id: int,
    character_ids: tuple[int, ...],
    revision: str | None,
    found: tuple[str, ...] | None = None,
) -> PromptInput:
    """``inp`` with the chunks of the documents in reach that share the most words with
    the newest messages, or the chunks a search by meaning ``found`` (unchanged when the
    Data Bank is off, has nothing for this chat or finds nothing)."""
    if not settings.enabled or not documents_in_reach(store, revision, character_ids, chat_id):
        return inp
    texts = found
    if texts is None:
        words = recall_words(inp.history, settings.query_messages)
        chunks = find_chunks(
            store.engine,
            store.owner_id,
            words,
            character_ids=character_ids,
            chat_id=chat_id,
            limit=settings.results,
        )
        texts = tuple(chunk.text for chunk in chunks)
    if not texts:
        return inp
    databank = Recall(
        texts=texts,
        template=settings.template,
        position=POSITIONS[settings.position],
        depth=settings.depth,
        role=ROLES.index(settings.role),
    )
    return replace(inp, databank=databank)
