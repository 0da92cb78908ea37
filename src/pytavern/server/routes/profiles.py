"""Connection profiles: list, save, delete, and the profile a chat uses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from pytavern.server.deps import ServicesDep

router = APIRouter(prefix="/api", tags=["profiles"])


class ChatProfileBody(BaseModel):
    """The profile a chat is to use (``null``: none)."""

    profile: str | None = None


@router.get("/profiles")
async def list_profiles(services: ServicesDep) -> list[dict[str, Any]]:
    """Every profile."""
    return [profile.model_dump() for profile in services.profiles.all()]


@router.post("/profiles", status_code=201)
async def save_profile(body: dict[str, Any], services: ServicesDep) -> dict[str, Any]:
    """Save a profile: name, connection, and optionally model, sampler_preset,
    instruct_template, context_template, system_prompt (preset names)."""
    return services.profiles.save(body).model_dump()


@router.delete("/profiles/{name}", status_code=204)
async def delete_profile(name: str, services: ServicesDep) -> Response:
    """Delete a profile."""
    services.profiles.remove(name)
    return Response(status_code=204)


@router.get("/chats/{chat_id}/profile")
async def chat_profile(chat_id: int, services: ServicesDep) -> dict[str, Any]:
    """The profile the chat uses."""
    return {"chat_id": chat_id, "profile": services.profiles.of_chat(chat_id)}


@router.put("/chats/{chat_id}/profile")
async def use_profile(chat_id: int, body: ChatProfileBody, services: ServicesDep) -> dict[str, Any]:
    """Switch the chat to a profile from its next turn."""
    return {"chat_id": chat_id, "profile": services.profiles.use(chat_id, body.profile)}
