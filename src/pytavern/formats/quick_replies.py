"""SillyTavern quick-reply sets (the Quick Reply extension's JSON), read and written
losslessly. Version 2 files (``qrList``) are kept as they are; version 1 files
(``quickReplySlots``) are read into the version 2 shape."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pytavern.errors import FormatError

_HINT = "Export the set from SillyTavern's Quick Reply extension (a .json file)"


@dataclass(frozen=True, slots=True)
class QuickReply:
    """One button: its label, tooltip and the text or script it runs."""

    id: int
    label: str
    message: str
    title: str = ""
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class QuickReplySet:
    """A named set of quick replies and how plain-text replies are sent."""

    name: str
    replies: tuple[QuickReply, ...]
    disable_send: bool = False
    """Plain text goes into the input box instead of being sent."""
    place_before_input: bool = False
    inject_input: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The set as SillyTavern JSON (version 2)."""
        return self.raw


def _from_v1(data: dict[str, Any]) -> dict[str, Any]:
    slots = [s for s in data.get("quickReplySlots") or [] if isinstance(s, dict)]
    replies = [
        {
            "id": index + 1,
            "label": str(slot.get("label") or ""),
            "title": str(slot.get("title") or ""),
            "message": str(slot.get("mes") or ""),
            "isHidden": bool(slot.get("hidden")),
        }
        for index, slot in enumerate(slots)
    ]
    return {
        "version": 2,
        "name": str(data.get("name") or ""),
        "disableSend": bool(data.get("AutoInputInject") is False),
        "placeBeforeInput": bool(data.get("placeBeforeInputEnabled")),
        "injectInput": bool(data.get("AutoInputInject")),
        "qrList": replies,
        "idIndex": len(replies) + 1,
    }


def _reply(item: Any) -> QuickReply:
    if not isinstance(item, dict):
        raise FormatError("a quick reply in the set is not an object", hint=_HINT)
    return QuickReply(
        id=int(item.get("id") or 0),
        label=str(item.get("label") or ""),
        message=str(item.get("message") or ""),
        title=str(item.get("title") or ""),
        hidden=bool(item.get("isHidden")),
    )


def set_from_dict(data: Any) -> QuickReplySet:
    """A set from its SillyTavern JSON (version 1 or 2)."""
    if not isinstance(data, dict):
        raise FormatError("not a SillyTavern quick-reply set", hint=_HINT)
    if "qrList" not in data and "quickReplySlots" in data:
        data = _from_v1(data)
    replies = data.get("qrList")
    name = str(data.get("name") or "").strip()
    if not isinstance(replies, list) or not name:
        raise FormatError("not a SillyTavern quick-reply set (no name or qrList)", hint=_HINT)
    return QuickReplySet(
        name=name,
        replies=tuple(_reply(item) for item in replies),
        disable_send=bool(data.get("disableSend")),
        place_before_input=bool(data.get("placeBeforeInput")),
        inject_input=bool(data.get("injectInput")),
        raw=dict(data) | {"name": name},
    )


def read_set(data: bytes) -> QuickReplySet:
    """A set from a SillyTavern quick-reply file."""
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"the quick-reply file is not valid JSON ({exc})", hint=_HINT) from None
    return set_from_dict(value)


def write_set(reply_set: QuickReplySet) -> bytes:
    """A set as a SillyTavern quick-reply file."""
    return json.dumps(reply_set.to_dict(), ensure_ascii=False, indent=4).encode("utf-8")
