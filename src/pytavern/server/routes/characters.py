"""Characters: list, create, read, update, delete; avatars; import and export of cards."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from pytavern.engine.services.characters import character_detail, character_summary, image_type
from pytavern.server.deps import ServicesDep
from pytavern.server.files import IMAGE_BODY, PNG_RESPONSE, download, read_limited, safe_filename
from pytavern.server.uploads import upload_name

router = APIRouter(prefix="/api/characters", tags=["characters"])
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


class CardBody(BaseModel):
    """A character card as a dict (V1 flat, V2 or V3 with ``data``)."""

    card: dict[str, Any]


@router.get("")
async def list_characters(services: ServicesDep, tag: str | None = None) -> list[dict[str, Any]]:
    """Every character, by name (only those carrying ``tag`` when given)."""
    return [character_summary(record) for record in services.characters.all(tag)]


@router.post("", status_code=201)
async def create_character(body: CardBody, services: ServicesDep) -> dict[str, Any]:
    """Create a character from a card dict."""
    return character_detail(services.characters.create(body.card))


@router.post("/import", status_code=201, openapi_extra=_RAW_BODY)
async def import_character(
    request: Request, services: ServicesDep, filename: str = "upload"
) -> dict[str, Any]:
    """Import a character card file: the raw bytes of a PNG, CharX or JSON card."""
    data = await read_limited(request)
    record = services.characters.import_bytes(data, upload_name(filename, "upload"))
    return character_detail(record)


@router.get("/{character_id}")
async def get_character(character_id: int, services: ServicesDep) -> dict[str, Any]:
    """One character with its card."""
    return character_detail(services.characters.get(character_id))


@router.put("/{character_id}")
async def update_character(
    character_id: int, body: CardBody, services: ServicesDep
) -> dict[str, Any]:
    """Replace a character's card."""
    return character_detail(services.characters.update(character_id, body.card))


@router.delete("/{character_id}", status_code=204)
async def delete_character(character_id: int, services: ServicesDep) -> Response:
    """Delete a character and its chats."""
    services.characters.delete(character_id)
    return Response(status_code=204)


@router.get("/{character_id}/avatar", response_class=Response, responses=PNG_RESPONSE)
async def get_avatar(character_id: int, services: ServicesDep) -> Response:
    """The character's avatar image."""
    avatar = services.characters.avatar(character_id)
    return Response(avatar, media_type=image_type(avatar), headers={"Cache-Control": "no-cache"})


@router.put("/{character_id}/avatar", openapi_extra=IMAGE_BODY)
async def put_avatar(character_id: int, request: Request, services: ServicesDep) -> dict[str, Any]:
    """Replace the character's avatar with the uploaded image."""
    image = await read_limited(request)
    return character_detail(services.characters.set_avatar(character_id, image))


@router.get(
    "/{character_id}/export",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "application/json": {}}}},
)
async def export_character(
    character_id: int,
    services: ServicesDep,
    format: Annotated[Literal["png", "json"], Query()] = "png",
) -> Response:
    """Download the card as a PNG (card in its text chunks) or as JSON."""
    card = services.characters.export(character_id, png=format == "png")
    stem = safe_filename(services.characters.get(character_id).name)
    return download(card.data, card.media_type, f"{stem}.{format}")
