"""``pytavern databank``: the Data Bank's documents (every chat's, a character's, a chat's)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pytavern.cli._common import data_dir_option, json_option, open_services, print_json, run_async
from pytavern.cli.library import read_input
from pytavern.engine.services import DocumentRecord, Services
from pytavern.engine.services.databank import document_public

_CHARACTER = click.option("--character", help="A character's documents (by name or id).")
_CHAT = click.option("--chat", "chat_id", type=int, help="One chat's documents (its id).")
_FILE = click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path)


@click.group("databank")
@data_dir_option
def databank_group() -> None:
    """The Data Bank: documents whose parts sharing words with the chat go in the prompt."""


def character_id_of(services: Services, which: str | None) -> int | None:
    """The id of the character ``which`` names (an id, else a name), or None."""
    return None if which is None else services.characters.by_id_or_name(which).id


def _where(document: DocumentRecord, names: dict[int, str]) -> str:
    """Whose a document is, in words: ``global``, ``character NAME`` or ``chat ID``."""
    if document.chat_id is not None:
        return f"chat {document.chat_id}"
    if document.character_id is not None:
        return f"character {names.get(document.character_id, document.character_id)}"
    return "global"


def _whose(document: DocumentRecord, names: dict[int, str]) -> str:
    """Whose chats a document is attached to, in words (``every chat``, ``Wren's chats``)."""
    if document.chat_id is None and document.character_id is not None:
        return f"{names.get(document.character_id, document.character_id)}'s chats"
    return "every chat" if document.chat_id is None else f"chat {document.chat_id}"


def _chunks(document: DocumentRecord) -> str:
    return f"{document.chunks} chunk{'' if document.chunks == 1 else 's'}"


def _line(document: DocumentRecord, names: dict[int, str]) -> str:
    """One document in a line: id, whose, name, size, chunks and a mark when it is off."""
    off = "  [disabled]" if not document.enabled else ""
    where = _where(document, names)
    size = f"{document.length:,} characters"
    return f"{document.id:>5}  {where:<20} {document.name}  ({size}, {_chunks(document)}){off}"


def _names(services: Services) -> dict[int, str]:
    return {c.id: c.name for c in services.characters.all()}


def _one_owner(character: str | None, chat_id: int | None) -> None:
    """Refuse both ``--character`` and ``--chat``."""
    if character is not None and chat_id is not None:
        raise click.UsageError("give --character or --chat, not both")


def _check_add(file: Path | None, text: str | None, name: str | None) -> None:
    """Refuse a ``databank add`` that does not say what to attach, once."""
    if (file is None) == (text is None):
        raise click.UsageError("give a FILE (or - for standard input) or --text, one of them")
    if (text is not None or str(file) == "-") and not (name and name.strip()):
        raise click.UsageError("text needs a --name")


def _add(
    services: Services,
    file: Path | None,
    text: str | None,
    name: str | None,
    scope: tuple[int | None, int | None],
) -> DocumentRecord:
    """Attach the file, standard input or ``text`` (``scope``: character id, chat id)."""
    character_id, chat_id = scope
    databank = services.databank
    if file is not None and str(file) != "-":
        data = read_input(file)
        return databank.add_file(
            file.name, data, name=name, character_id=character_id, chat_id=chat_id
        )
    body = text if text is not None else sys.stdin.read()
    return databank.add_text(name or "", body, character_id=character_id, chat_id=chat_id)


@databank_group.command("add")
@click.argument("file", type=_FILE, required=False)
@click.option("--text", help="Attach TEXT instead of a file (give it a --name).")
@click.option("--name", help="The document's name (default: the file's name).")
@_CHARACTER
@_CHAT
@data_dir_option
@json_option
@run_async
async def add_document(
    file: Path | None,
    text: str | None,
    name: str | None,
    character: str | None,
    chat_id: int | None,
    as_json: bool,
) -> None:
    """Attach FILE (.txt, .md, .html, .json, .csv, .pdf, .docx, .epub; - reads standard
    input) to every chat, to a character's chats (--character) or to one chat (--chat)."""
    _check_add(file, text, name)
    _one_owner(character, chat_id)
    async with open_services() as services:
        scope = (character_id_of(services, character), chat_id)
        document = _add(services, file, text, name, scope)
        await services.databank.make_vectors(document.id)  # when it searches by meaning
        whose = _whose(document, _names(services))
    if as_json:
        print_json(document_public(document))
    else:
        what = f"{document.name!r} (id {document.id})"
        click.echo(f"attached {what} to {whose}: {_chunks(document)}")


@databank_group.command("list")
@_CHARACTER
@_CHAT
@data_dir_option
@json_option
@run_async
async def list_documents(character: str | None, chat_id: int | None, as_json: bool) -> None:
    """List the documents: every one, or those a chat may use (--chat: the global ones,
    its character's and its own), or the global ones and a character's (--character)."""
    _one_owner(character, chat_id)
    async with open_services() as services:
        character_id = character_id_of(services, character)
        documents = services.databank.list(character_id=character_id, chat_id=chat_id)
        names = _names(services)
    if as_json:
        print_json([document_public(d) for d in documents])
        return
    if not documents:
        click.echo("no documents")
    for document in documents:
        click.echo(_line(document, names))


@databank_group.command("show")
@click.argument("document_id", type=int)
@data_dir_option
@json_option
@run_async
async def show_document(document_id: int, as_json: bool) -> None:
    """Print a document's text (with --json, the document and its text)."""
    async with open_services() as services:
        document = services.databank.get(document_id)
        text = services.databank.text(document_id)
    if as_json:
        print_json(document_public(document) | {"text": text})
    else:
        click.echo(text)


async def _switch(document_id: int, enabled: bool, as_json: bool) -> None:
    """Let the prompt use a document, or leave it out, and say so."""
    async with open_services() as services:
        document = services.databank.enable(document_id, enabled)
    if as_json:
        print_json(document_public(document))
    else:
        state = "enabled" if enabled else "disabled"
        click.echo(f"{state} {document.name!r} (id {document.id})")


@databank_group.command("enable")
@click.argument("document_id", type=int)
@data_dir_option
@json_option
@run_async
async def enable_document(document_id: int, as_json: bool) -> None:
    """Let the prompt use a document again."""
    await _switch(document_id, True, as_json)


@databank_group.command("disable")
@click.argument("document_id", type=int)
@data_dir_option
@json_option
@run_async
async def disable_document(document_id: int, as_json: bool) -> None:
    """Leave a document out of the prompt (it stays attached)."""
    await _switch(document_id, False, as_json)


@databank_group.command("remove")
@click.argument("document_id", type=int)
@data_dir_option
@json_option
@run_async
async def remove_document(document_id: int, as_json: bool) -> None:
    """Remove a document."""
    async with open_services() as services:
        document = services.databank.get(document_id)
        services.databank.remove(document_id)
    if as_json:
        print_json(document_public(document))
    else:
        click.echo(f"removed {document.name!r} (id {document.id})")
