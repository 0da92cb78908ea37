"""Group chats: create, edit members and settings, run turns, import and export."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from pytavern.server.deps import CallerDep, GenerationsDep, ServicesDep
from pytavern.server.files import download, safe_filename
from pytavern.server.generations import SSE_RESPONSE, GenerationStream, stream_generation

router = APIRouter(prefix="/api", tags=["groups"])
Strategy = Literal["natural", "list", "manual", "pooled"]
CardsMode = Literal["swap", "join", "join-muted"]
Member = int | str


class GroupCreate(BaseModel):
    """A new group: its name and members (character ids or names)."""

    name: str = Field(min_length=1, max_length=200)
    members: list[Member] = Field(min_length=1, max_length=100)
    strategy: Strategy = "natural"


class GroupChange(BaseModel):
    """What to change in a group (fields left out stay as they are)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    add: list[Member] = Field(default_factory=list, max_length=100)
    remove: list[Member] = Field(default_factory=list, max_length=100)
    mute: list[Member] = Field(default_factory=list, max_length=100)
    unmute: list[Member] = Field(default_factory=list, max_length=100)
    strategy: Strategy | None = None
    generation_mode: CardsMode | None = None
    allow_self_responses: bool | None = None
    auto_mode_delay: int | None = Field(default=None, ge=1, le=3600)
    join_prefix: str | None = Field(default=None, max_length=2000)
    join_suffix: str | None = Field(default=None, max_length=2000)


class GroupSend(BaseModel):
    """The user's message (``null``: the group goes on by itself, as auto-mode does)."""

    text: str | None = Field(default=None, max_length=200_000)
    connection: str | None = None


class GroupTrigger(BaseModel):
    """Ask one member to answer now."""

    member: Member
    connection: str | None = None


class GroupRedo(BaseModel):
    """Swipe, regenerate or continue the last member's reply."""

    mode: Literal["swipe", "regenerate", "continue"] = "swipe"
    connection: str | None = None


class GroupImport(BaseModel):
    """A SillyTavern group file and (optionally) its chat as JSONL text."""

    group: dict[str, Any]
    chat: str | None = None
    filename: str = "group.json"


@router.get("/groups")
async def list_groups(services: ServicesDep) -> list[dict[str, Any]]:
    """Every group, by name."""
    return [g.to_dict() for g in services.groups.all()]


@router.post("/groups", status_code=201)
async def create_group(body: GroupCreate, services: ServicesDep) -> dict[str, Any]:
    """Create a group with a new chat that opens with the members' greetings."""
    return services.groups.create(body.name, list(body.members), strategy=body.strategy).to_dict()


@router.post("/groups/import", status_code=201)
async def import_group(body: GroupImport, services: ServicesDep) -> dict[str, Any]:
    """Import a SillyTavern group (its members must be characters here) and its chat."""
    data = json.dumps(body.group).encode("utf-8")
    chat = body.chat.encode("utf-8") if body.chat is not None else None
    return services.groups.import_files(data, body.filename, chat).to_dict()


@router.get("/groups/{group_id}")
async def get_group(group_id: int, services: ServicesDep) -> dict[str, Any]:
    """One group."""
    return services.groups.get(group_id).to_dict()


@router.patch("/groups/{group_id}")
async def change_group(group_id: int, body: GroupChange, services: ServicesDep) -> dict[str, Any]:
    """Change a group's name, members, muted members or settings."""
    return services.groups.update(
        group_id,
        name=body.name,
        add=list(body.add),
        remove=list(body.remove),
        mute=list(body.mute),
        unmute=list(body.unmute),
        strategy=body.strategy,
        generation_mode=body.generation_mode,
        allow_self_responses=body.allow_self_responses,
        auto_mode_delay=body.auto_mode_delay,
        join_prefix=body.join_prefix,
        join_suffix=body.join_suffix,
    ).to_dict()


@router.delete("/groups/{group_id}", status_code=204)
async def delete_group(group_id: int, services: ServicesDep) -> Response:
    """Delete a group (its chat stays, as a chat of its first member)."""
    services.groups.delete(group_id)
    return Response(status_code=204)


@router.post("/groups/{group_id}/send")
async def send_to_group(group_id: int, body: GroupSend, services: ServicesDep) -> dict[str, Any]:
    """The user's message; the members the group's strategy picks answer in turn."""
    turn = await services.groups.send(group_id, body.text, connection=body.connection)
    return turn.to_dict()


class GroupGenerate(BaseModel):
    """A group turn to stream: ``send`` (``text``; none: the group goes on by itself),
    ``trigger`` (``member``, by name or character id) or ``redo`` (``mode``)."""

    action: Literal["send", "trigger", "redo"] = "send"
    text: str | None = Field(default=None, max_length=200_000)
    member: str | int | None = None
    mode: Literal["swipe", "regenerate", "continue"] = "swipe"
    connection: str | None = None


@router.post(
    "/groups/{group_id}/generate",
    response_class=GenerationStream,
    responses=SSE_RESPONSE,
    status_code=200,
)
async def generate_in_group(
    group_id: int,
    body: GroupGenerate,
    services: ServicesDep,
    caller: CallerDep,
    generations: GenerationsDep,
) -> GenerationStream:
    """Run a group turn on the server and stream its events: a ``status`` event with the
    ``speaker`` before each member's text, one ``finished`` at the end. Like a chat's
    generation, it runs to its end whatever the client does, and can be followed again."""
    generations.check_room(caller.owner)
    chat_id = services.groups.get(group_id).chat_id or 0
    events = services.groups.events(
        group_id,
        body.action,
        text=body.text,
        member=body.member,
        mode=body.mode,
        connection=body.connection,
    )
    return await stream_generation(generations, events, caller.owner, chat_id, "group")


@router.post("/groups/{group_id}/trigger")
async def trigger_member(
    group_id: int, body: GroupTrigger, services: ServicesDep
) -> dict[str, Any]:
    """One member answers now (manual order's way to pick who speaks)."""
    turn = await services.groups.trigger(group_id, body.member, connection=body.connection)
    return turn.to_dict()


@router.post("/groups/{group_id}/redo")
async def redo_reply(group_id: int, body: GroupRedo, services: ServicesDep) -> dict[str, Any]:
    """Swipe, regenerate or continue the last reply, as the member who wrote it."""
    turn = await services.groups.redo(group_id, body.mode, connection=body.connection)
    return turn.to_dict()


@router.get(
    "/groups/{group_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
async def export_group(group_id: int, services: ServicesDep) -> Response:
    """Download the group as SillyTavern group JSON."""
    group = services.groups.get(group_id)
    data, _chat = services.groups.export_files(group_id)
    return download(data, "application/json", f"{safe_filename(group.name)}.json")


@router.get(
    "/groups/{group_id}/export/chat",
    response_class=Response,
    responses={200: {"content": {"application/jsonl": {}}}},
)
async def export_group_chat(group_id: int, services: ServicesDep) -> Response:
    """Download the group's chat as SillyTavern JSONL."""
    group = services.groups.get(group_id)
    _data, chat = services.groups.export_files(group_id)
    return download(chat or b"", "application/jsonl", f"{safe_filename(group.name)}.jsonl")
