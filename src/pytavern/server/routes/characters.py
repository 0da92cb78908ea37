"""Characters: list, create, read, update, delete; avatars; import and export of cards."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from pytavern.engine.transfer import character_card, export_card, import_card
from pytavern.errors import FormatError, NotFoundError
from pytavern.formats.cards import card_from_dict
from pytavern.prompt.macros import MacroContext, evaluate
from pytavern.server.deps import StoreDep
from pytavern.server.uploads import too_large, upload_name
from pytavern.store import CharacterRecord

router = APIRouter(prefix="/characters", tags=["characters"])
_RAW_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": {"type": "object"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
_IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_PNG_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "A PNG image"}
}


class CardBody(BaseModel):
    """A character card as a dict (V1 flat, V2 or V3 with ``data``)."""

    card: dict[str, Any]


def summary(record: CharacterRecord) -> dict[str, Any]:
    """A character as the gallery lists it."""
    card = character_card(record)
    blurb = evaluate(card.description[:280], MacroContext(user="you", char=record.name))
    return {
        "id": record.id,
        "name": record.name,
        "description": blurb,
        "tags": [str(t) for t in card.tags][:12],
        "has_avatar": record.has_avatar,
        "updated_at": record.updated_at.isoformat(),
    }


def detail(record: CharacterRecord) -> dict[str, Any]:
    """A character with its whole card."""
    return summary(record) | {"card": record.card}


@router.get("")
async def list_characters(store: StoreDep) -> list[dict[str, Any]]:
    """Every character, by name."""
    return [summary(record) for record in store.list_characters()]


@router.post("", status_code=201)
async def create_character(body: CardBody, store: StoreDep) -> dict[str, Any]:
    """Create a character from a card dict."""
    return detail(store.add_character(card_from_dict(body.card).raw))


@router.post("/import", status_code=201, openapi_extra=_RAW_BODY)
async def import_character(
    request: Request, store: StoreDep, filename: str = "upload"
) -> dict[str, Any]:
    """Import a character card file: the raw bytes of a PNG, CharX or JSON card."""
    data = await read_limited(request)
    limit: int = request.app.state.settings.max_upload_bytes
    return detail(import_card(store, data, upload_name(filename, "upload"), limit))


@router.get("/{character_id}")
async def get_character(character_id: int, store: StoreDep) -> dict[str, Any]:
    """One character with its card."""
    return detail(store.get_character(character_id))


@router.put("/{character_id}")
async def update_character(character_id: int, body: CardBody, store: StoreDep) -> dict[str, Any]:
    """Replace a character's card."""
    return detail(store.update_character(character_id, card_from_dict(body.card).raw))


@router.delete("/{character_id}", status_code=204)
async def delete_character(character_id: int, store: StoreDep) -> Response:
    """Delete a character and its chats."""
    store.delete_character(character_id)
    return Response(status_code=204)


@router.get("/{character_id}/avatar", response_class=Response, responses=_PNG_RESPONSE)
async def get_avatar(character_id: int, store: StoreDep) -> Response:
    """The character's avatar image."""
    avatar = store.character_avatar(character_id)
    if avatar is None:
        raise NotFoundError(f"character {character_id} has no avatar")
    return Response(avatar, media_type=image_type(avatar), headers={"Cache-Control": "no-cache"})


@router.put("/{character_id}/avatar", openapi_extra=_IMAGE_BODY)
async def put_avatar(character_id: int, request: Request, store: StoreDep) -> dict[str, Any]:
    """Replace the character's avatar with the uploaded image."""
    image = await read_limited(request)
    if image_type(image) == "application/octet-stream":
        raise FormatError("the avatar must be a PNG, JPEG, GIF or WebP image")
    record = store.get_character(character_id)
    return detail(store.update_character(character_id, record.card, avatar=image))


@router.get(
    "/{character_id}/export",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "application/json": {}}}},
)
async def export_character(
    character_id: int,
    store: StoreDep,
    format: Annotated[Literal["png", "json"], Query()] = "png",
) -> Response:
    """Download the card as a PNG (card in its text chunks) or as JSON."""
    record = store.get_character(character_id)
    filename = safe_filename(record.name)
    if format == "json":
        body = export_card(store, character_id, png=False)
        return download(body, "application/json", f"{filename}.json")
    return download(export_card(store, character_id, png=True), "image/png", f"{filename}.png")


def download(body: bytes, media_type: str, filename: str) -> Response:
    """A file download answer."""
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def safe_filename(name: str) -> str:
    """A file name made of safe characters only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "character"


def image_type(data: bytes) -> str:
    """The media type of an image, from its first bytes."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


async def read_limited(request: Request) -> bytes:
    """The request body, refused (413) past the server's ``max_upload_bytes``."""
    limit: int = request.app.state.settings.max_upload_bytes
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)
