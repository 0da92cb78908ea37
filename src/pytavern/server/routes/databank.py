"""The Data Bank: documents the prompt draws on, for every chat, a character or one chat."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from pytavern.engine.services.databank import document_public
from pytavern.server.deps import ServicesDep
from pytavern.server.files import read_limited
from pytavern.server.uploads import upload_name

router = APIRouter(prefix="/api/databank", tags=["databank"])

_FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {"schema": {"type": "string"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


class TextDocument(BaseModel):
    """A document typed in: its name, its text and whose it is (neither id: every chat's)."""

    name: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1)
    character_id: int | None = None
    chat_id: int | None = None


class DocumentChange(BaseModel):
    """What can change of a document: whether the prompt uses it."""

    enabled: bool


@router.get("")
async def list_documents(
    services: ServicesDep, chat_id: int | None = None, character_id: int | None = None
) -> list[dict[str, Any]]:
    """The documents a chat may use (``chat_id``: global ones, its character's, its own),
    or the global ones and a character's (``character_id``), or every one (neither)."""
    documents = services.databank.list(character_id=character_id, chat_id=chat_id)
    return [document_public(document) for document in documents]


@router.post("", status_code=201)
async def add_text(body: TextDocument, services: ServicesDep) -> dict[str, Any]:
    """Attach text typed in as a document (its vectors made in the background when the Data
    Bank searches by meaning)."""
    document = services.databank.add_text(
        body.name, body.text, character_id=body.character_id, chat_id=body.chat_id
    )
    services.databank.start_vectors(document.id)
    return document_public(document)


@router.post("/upload", status_code=201, openapi_extra=_FILE_BODY)
async def add_file(
    request: Request,
    services: ServicesDep,
    filename: str = "document.txt",
    character_id: int | None = None,
    chat_id: int | None = None,
) -> dict[str, Any]:
    """Attach a file: the raw bytes of a .txt, .md, .html, .json, .csv or .pdf file.

    Read and cut in a worker thread: a long PDF takes seconds, and the streams running
    meanwhile must not wait for it. Its vectors are made in the background when the Data
    Bank searches by meaning."""
    data = await read_limited(request)
    document = await run_in_threadpool(
        services.databank.add_file,
        upload_name(filename, "document.txt"),
        data,
        character_id=character_id,
        chat_id=chat_id,
    )
    services.databank.start_vectors(document.id)
    return document_public(document)


@router.get("/{document_id}")
async def get_document(document_id: int, services: ServicesDep) -> dict[str, Any]:
    """One document, with its text."""
    document = services.databank.get(document_id)
    return document_public(document) | {"text": services.databank.text(document_id)}


@router.patch("/{document_id}")
async def change_document(
    document_id: int, body: DocumentChange, services: ServicesDep
) -> dict[str, Any]:
    """Let the prompt use a document, or leave it out (it stays attached)."""
    return document_public(services.databank.enable(document_id, body.enabled))


@router.delete("/{document_id}", status_code=204)
async def remove_document(document_id: int, services: ServicesDep) -> Response:
    """Remove a document."""
    services.databank.remove(document_id)
    return Response(status_code=204)
