"""SillyTavern group files (``data/<user>/groups/<id>.json``).

A group names its members by their card file (``"Seraphina.png"``, SillyTavern's avatar
id). :class:`GroupFile` keeps the raw dictionary, so every field (favourites, avatars,
past chats' metadata, fields newer than this code) round-trips, and gives typed views of
what group chats need.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from pytavern.errors import FormatError
from pytavern.formats._json import js_dumps, load_json_object

SWAP, JOIN, JOIN_WITH_MUTED = range(3)
"""``generation_mode``: swap cards, join cards, join cards including muted members."""
DEFAULT_AUTO_MODE_DELAY = 5
GROUP_DEFAULTS: dict[str, Any] = {
    "allow_self_responses": False,
    "activation_strategy": 0,
    "generation_mode": SWAP,
    "disabled_members": [],
    "chat_metadata": {},
    "fav": False,
    "auto_mode_delay": DEFAULT_AUTO_MODE_DELAY,
    "generation_mode_join_prefix": "",
    "generation_mode_join_suffix": "",
    "hideMutedSprites": False,
}
"""What SillyTavern's ``createGroup`` writes besides the name, members and chats."""


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


@dataclass(frozen=True, slots=True, eq=False)
class GroupFile:
    """A group over its raw SillyTavern dictionary."""

    raw: dict[str, Any]

    @property
    def id(self) -> str:
        """SillyTavern's id (a millisecond timestamp, as text)."""
        return str(self.raw.get("id") or "")

    @property
    def name(self) -> str:
        """The group's name."""
        return str(self.raw.get("name") or "")

    @property
    def members(self) -> list[str]:
        """Members' avatar ids (card file names), in list order."""
        return _strings(self.raw.get("members"))

    @property
    def disabled_members(self) -> list[str]:
        """Muted members' avatar ids."""
        return _strings(self.raw.get("disabled_members"))

    @property
    def activation_strategy(self) -> int:
        """0 natural, 1 list, 2 manual, 3 pooled."""
        return _int(self.raw.get("activation_strategy"), 0)

    @property
    def generation_mode(self) -> int:
        """0 swap cards, 1 join cards, 2 join cards including muted members."""
        return _int(self.raw.get("generation_mode"), SWAP)

    @property
    def allow_self_responses(self) -> bool:
        """Whether a member may answer its own message (auto-mode, natural order)."""
        return bool(self.raw.get("allow_self_responses"))

    @property
    def auto_mode_delay(self) -> int:
        """Seconds between auto-mode turns."""
        return _int(self.raw.get("auto_mode_delay"), DEFAULT_AUTO_MODE_DELAY)

    @property
    def join_prefix(self) -> str:
        """Text before each joined card field (``<FIELDNAME>`` is the field's name)."""
        return str(self.raw.get("generation_mode_join_prefix") or "")

    @property
    def join_suffix(self) -> str:
        """Text after each joined card field."""
        return str(self.raw.get("generation_mode_join_suffix") or "")

    @property
    def chat_id(self) -> str:
        """The name of the group's current chat file (without ``.jsonl``)."""
        return str(self.raw.get("chat_id") or "")

    @property
    def chats(self) -> list[str]:
        """The names of all the group's chat files."""
        return _strings(self.raw.get("chats"))

    def with_changes(self, **changes: Any) -> GroupFile:
        """A copy with some raw fields replaced."""
        raw = copy.deepcopy(self.raw)
        raw.update(changes)
        return GroupFile(raw)


def new_group(group_id: str, name: str, members: list[str], chat_id: str) -> GroupFile:
    """A group as SillyTavern's ``createGroup`` would write it."""
    raw: dict[str, Any] = {"id": group_id, "name": name, "members": list(members)}
    raw.update(copy.deepcopy(GROUP_DEFAULTS))
    raw.update({"avatar_url": "", "chat_id": chat_id, "chats": [chat_id]})
    return GroupFile(raw)


def read_group(data: bytes | str, filename: str) -> GroupFile:
    """Read a SillyTavern group JSON file; raises ``FormatError`` on a bad shape."""
    raw = load_json_object(data, filename, "group")
    if not isinstance(raw.get("members"), list) or not isinstance(raw.get("name", ""), str):
        raise FormatError(
            f"{filename}: not a SillyTavern group (no 'members' list)",
            hint="Pick a file from SillyTavern's data/<user>/groups folder.",
        )
    return GroupFile(raw)


def group_to_json(group: GroupFile) -> bytes:
    """The group as SillyTavern JSON."""
    return js_dumps(group.raw).encode("utf-8")
