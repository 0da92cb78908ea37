"""Group chats over the store: members from characters, SillyTavern files in and out.

The pure parts live beside this module: which members answer (``group_activation``) and the
join-cards modes (``group_cards``). Here they meet the store: a group's members are stored
characters, named in the group file by SillyTavern avatar ids (``"<card name>.png"``); a
group chat is a chat of its first member whose replies are written by the member who
answered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pytavern.engine.group_activation import Member, SpokenLine
from pytavern.engine.group_cards import GroupSpeaker
from pytavern.engine.st_export import safe_name
from pytavern.engine.transfer import ST_HEADER, ST_LINE
from pytavern.errors import ConfigError, NotFoundError
from pytavern.formats.cards import Card, card_from_dict
from pytavern.formats.chats import chat_to_jsonl, parse_chat_jsonl
from pytavern.formats.groups import JOIN, JOIN_WITH_MUTED, GroupFile
from pytavern.store import CharacterRecord, GroupRecord, MessageRecord, Store

GROUP_CHAT_HEADER = {"user_name": "unused", "character_name": "unused"}
"""The header line SillyTavern writes at the top of a group chat file."""
HISTORY_FOR_STRATEGY = 200
"""Newest messages the strategies look at (pooled order reads back to the user's message)."""


@dataclass(frozen=True, slots=True)
class GroupMember:
    """A member: the stored character and its avatar id in the group file."""

    character: CharacterRecord
    avatar: str
    muted: bool

    @property
    def card(self) -> Card:
        """The member's card."""
        return card_from_dict(self.character.card, filename=self.character.name)

    def as_member(self) -> Member:
        """What the activation strategies see."""
        return Member(self.avatar, self.character.name, talkativeness(self.card), self.muted)


def talkativeness(card: Card) -> float:
    """The card's talkativeness (``extensions.talkativeness``; SillyTavern's 0.5 default)."""
    value: Any = card.extensions.get("talkativeness", card.raw.get("talkativeness"))
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.5
    return number if number == number else 0.5


def new_group_id() -> str:
    """A SillyTavern group id: the time in milliseconds."""
    return str(int(time.time() * 1000))


def chat_file_name() -> str:
    """A chat file name as SillyTavern's ``humanizedDateTime`` makes it."""
    now = time.localtime()
    return time.strftime("%Y-%m-%d@%Hh%Mm%Ss", now)


def members_of(store: Store, record: GroupRecord) -> list[GroupMember]:
    """The group's members, in list order."""
    group = GroupFile(record.data)
    muted = set(group.disabled_members)
    out = []
    for avatar, character_id in zip(group.members, record.member_ids, strict=False):
        try:
            character = store.get_character(character_id)
        except NotFoundError:
            continue
        out.append(GroupMember(character, avatar, avatar in muted))
    return out


def avatar_ids(characters: list[CharacterRecord], taken: set[str] | None = None) -> list[str]:
    """New avatar ids for characters (``"<safe name>.png"``, unique)."""
    used = taken if taken is not None else set()
    return [f"{safe_name(c.name, used)}.png" for c in characters]


def resolve_avatar(store: Store, avatar: str) -> CharacterRecord:
    """The stored character a SillyTavern avatar id names (its card name, or its file)."""
    stem = avatar.rsplit("/", 1)[-1].removesuffix(".png").removesuffix(".json")
    characters = store.list_characters()
    for candidate in (stem, stem.replace("_", " ")):
        for character in characters:
            if character.name == candidate or safe_name(character.name, set()) == candidate:
                return character
    raise NotFoundError(
        f"the group's member {avatar!r} is not a character here",
        hint="Import that character's card first (pytavern import-card), then the group",
    )


def speaker_for(
    record: GroupRecord, member: GroupMember, members: list[GroupMember]
) -> GroupSpeaker:
    """How ``member`` answers in this group (swap, or which cards are joined)."""
    group = GroupFile(record.data)
    names = ", ".join(m.character.name for m in members)
    if group.generation_mode not in (JOIN, JOIN_WITH_MUTED):
        return GroupSpeaker(member.character.id, group_names=names)
    joined = tuple(
        m.character.id
        for m in members
        if not m.muted or m.avatar == member.avatar or group.generation_mode == JOIN_WITH_MUTED
    )
    return _joined_speaker(group, member, joined, names)


def _joined_speaker(
    group: GroupFile, member: GroupMember, joined: tuple[int, ...], names: str
) -> GroupSpeaker:
    """``member`` answering with the cards of ``joined`` joined (the group's own scenario,
    ``chat_metadata.scenario``, wins when set)."""
    scenario = group.raw.get("chat_metadata", {})
    override = scenario.get("scenario", "") if isinstance(scenario, dict) else ""
    return GroupSpeaker(
        member.character.id,
        joined,
        group.join_prefix,
        group.join_suffix,
        str(override or ""),
        names,
    )


def summary_speaker(store: Store, chat_id: int) -> GroupSpeaker | None:
    """For a group's chat: who a summary is made as (its first member, every member's card
    joined, so the model knows them all); ``None`` for a character's own chat."""
    record = next((g for g in store.list_groups() if g.chat_id == chat_id), None)
    if record is None:
        return None
    members = members_of(store, record)
    if not members:
        return None
    every = tuple(m.character.id for m in members)
    names = ", ".join(m.character.name for m in members)
    return _joined_speaker(GroupFile(record.data), members[0], every, names)


def spoken_lines(messages: list[MessageRecord], members: list[GroupMember]) -> list[SpokenLine]:
    """The chat as the strategies see it: who wrote each message."""
    by_name = {m.character.name: m.avatar for m in members}
    lines = []
    for message in messages:
        st = message.extra.get(ST_LINE) or {}
        avatar = st.get("original_avatar") if isinstance(st, dict) else None
        if not isinstance(avatar, str) and not message.is_user:
            avatar = by_name.get(message.name)
        hidden = bool(st.get("is_system")) if isinstance(st, dict) else False
        lines.append(
            SpokenLine(message.name, message.is_user, avatar or None, hidden, message.text)
        )
    return lines


def with_original_avatars(jsonl: bytes, members: list[GroupMember]) -> bytes:
    """A group chat file whose replies name their member (``original_avatar``), as
    SillyTavern's group chats do; lines that already name one are left as they are."""
    chat = parse_chat_jsonl(jsonl, "group chat")
    by_name = {m.character.name: m.avatar for m in members}
    for line in chat.messages:
        if not line.is_user and "original_avatar" not in line.raw and line.name in by_name:
            line.raw["original_avatar"] = by_name[line.name]
    return chat_to_jsonl(chat)


def check_members(characters: list[CharacterRecord]) -> None:
    """A group needs at least one member, each once."""
    if not characters:
        raise ConfigError(
            "a group needs at least one member", hint="Give --member NAME once per member"
        )
    ids = [c.id for c in characters]
    if len(set(ids)) != len(ids):
        raise ConfigError("a character is in the group twice", hint="Name each member once")


def group_chat_metadata(group: GroupFile) -> dict[str, Any]:
    """The metadata a new group chat starts with."""
    metadata = dict(group.raw.get("chat_metadata") or {})
    metadata[ST_HEADER] = dict(GROUP_CHAT_HEADER)
    return metadata
