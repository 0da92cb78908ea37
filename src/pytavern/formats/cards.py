"""Character cards: V1 JSON, V2 (``chara_card_v2``), V3 (``chara_card_v3``); JSON, PNG or CharX.

A :class:`Card` keeps the raw dictionary it was read from (unknown fields, extensions and
all) and gives typed access to the fields the prompt needs. Writing a card writes the raw
dictionary back, so import and export round-trip.
"""

from __future__ import annotations

import base64
import binascii
import copy
from dataclasses import dataclass
from typing import Any

from pytavern.errors import FormatError
from pytavern.formats import charx, png
from pytavern.formats._json import js_dumps, load_json_object

SPEC_V2 = "chara_card_v2"
SPEC_V3 = "chara_card_v3"
V1_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
_HINT = "Export the card again from the app it came from."


def _str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _str_list(value: Any) -> list[str]:
    return [_str(v) for v in value] if isinstance(value, list) else []


@dataclass(frozen=True, slots=True, eq=False)
class Card:
    """A character card over its raw dictionary; read-only typed views of its fields."""

    raw: dict[str, Any]

    @property
    def spec(self) -> str:
        """``"v1"``, ``"v2"`` or ``"v3"``."""
        spec = self.raw.get("spec")
        return "v3" if spec == SPEC_V3 else "v2" if spec == SPEC_V2 else "v1"

    @property
    def data(self) -> dict[str, Any]:
        """The dictionary holding the card's fields (``data`` for V2/V3, the root for V1)."""
        inner = self.raw.get("data")
        return inner if self.spec != "v1" and isinstance(inner, dict) else self.raw

    def _get(self, key: str) -> str:
        return _str(self.data.get(key))

    @property
    def name(self) -> str:
        """The character's name."""
        return self._get("name")

    @property
    def description(self) -> str:
        """The description ("character definition")."""
        return self._get("description")

    @property
    def personality(self) -> str:
        """The personality summary."""
        return self._get("personality")

    @property
    def scenario(self) -> str:
        """The scenario."""
        return self._get("scenario")

    @property
    def first_mes(self) -> str:
        """The greeting."""
        return self._get("first_mes")

    @property
    def mes_example(self) -> str:
        """Example dialogue, blocks separated by ``<START>``."""
        return self._get("mes_example")

    @property
    def system_prompt(self) -> str:
        """The card's main-prompt override (V2)."""
        return self._get("system_prompt")

    @property
    def post_history_instructions(self) -> str:
        """The card's post-history-instructions override (V2)."""
        return self._get("post_history_instructions")

    @property
    def creator_notes(self) -> str:
        """Creator notes (V1 ``creatorcomment``)."""
        return self._get("creator_notes") or _str(self.raw.get("creatorcomment"))

    @property
    def creator(self) -> str:
        """The card's author."""
        return self._get("creator")

    @property
    def character_version(self) -> str:
        """The card's own version string."""
        return self._get("character_version")

    @property
    def alternate_greetings(self) -> list[str]:
        """Alternative greetings (swipes of the first message)."""
        return _str_list(self.data.get("alternate_greetings"))

    @property
    def group_only_greetings(self) -> list[str]:
        """Greetings used only in group chats (V3)."""
        return _str_list(self.data.get("group_only_greetings"))

    @property
    def tags(self) -> list[str]:
        """Tags."""
        return _str_list(self.data.get("tags", self.raw.get("tags")))

    @property
    def extensions(self) -> dict[str, Any]:
        """The ``extensions`` mapping (SillyTavern keeps ``world``, ``depth_prompt``... here)."""
        ext = self.data.get("extensions")
        return ext if isinstance(ext, dict) else {}

    @property
    def character_book(self) -> dict[str, Any] | None:
        """The embedded lorebook (``character_book``) or ``None``."""
        book = self.data.get("character_book")
        return book if isinstance(book, dict) else None

    @property
    def depth_prompt(self) -> tuple[str, int, str]:
        """The character note ``(prompt, depth, role)``; default ``("", 4, "system")``."""
        dp = self.extensions.get("depth_prompt")
        if not isinstance(dp, dict):
            return "", 4, "system"
        depth = dp.get("depth")
        return (
            _str(dp.get("prompt")),
            depth if isinstance(depth, int) else 4,
            _str(dp.get("role") or "system"),
        )

    @property
    def world(self) -> str:
        """The name of the linked lorebook (``extensions.world``), or ``""``."""
        return _str(self.extensions.get("world"))

    def to_v2(self) -> Card:
        """Return a V2-or-newer card (V1 cards are upgraded as SillyTavern does; V2/V3 kept)."""
        if self.spec != "v1":
            return Card(copy.deepcopy(self.raw))
        return new_card(
            self.name,
            **{k: self.raw[k] for k in V1_FIELDS[1:] if isinstance(self.raw.get(k), str)},
            creator_notes=_str(self.raw.get("creatorcomment")),
            tags=_str_list(self.raw.get("tags")),
            extra_root={k: v for k, v in self.raw.items() if k not in V1_FIELDS},
        )

    def with_fields(self, **changes: Any) -> Card:
        """Return a copy with data fields changed (V1 root fields mirrored, as ST writes)."""
        raw = copy.deepcopy(self.raw)
        card = Card(raw)
        card.data.update(changes)
        if card.spec != "v1":
            for key in V1_FIELDS:
                if key in changes:
                    raw[key] = changes[key]
        return card


def new_card(name: str, *, extra_root: dict[str, Any] | None = None, **fields: Any) -> Card:
    """Build a new V2 card; V1 fields are mirrored at the root like SillyTavern writes them."""
    data: dict[str, Any] = {
        "name": name,
        "description": "",
        "personality": "",
        "scenario": "",
        "first_mes": "",
        "mes_example": "",
        "creator_notes": "",
        "system_prompt": "",
        "post_history_instructions": "",
        "tags": [],
        "creator": "",
        "character_version": "",
        "alternate_greetings": [],
        "extensions": {},
    }
    data.update(fields)
    raw: dict[str, Any] = dict(extra_root or {})
    raw.update({k: data[k] for k in V1_FIELDS})
    raw.update({"spec": SPEC_V2, "spec_version": "2.0", "data": data})
    return Card(raw)


def card_from_dict(raw: dict[str, Any], filename: str = "<card>") -> Card:
    """Wrap a parsed card dictionary, checking that it names the character."""
    card = Card(raw)
    if raw.get("spec") in (SPEC_V2, SPEC_V3) and not isinstance(raw.get("data"), dict):
        raise FormatError(
            f"{filename}: card says {raw['spec']} but has no 'data' object", hint=_HINT
        )
    if not card.name.strip():
        raise FormatError(f"{filename}: card has no character name", hint=_HINT)
    return card


def read_card(data: bytes, filename: str) -> Card:
    """Read a card from PNG (``ccv3`` chunk wins over ``chara``), CharX or JSON bytes."""
    return read_card_file(data, filename)[0]


def read_card_file(
    data: bytes, filename: str, max_bytes: int = charx.DEFAULT_MAX_BYTES
) -> tuple[Card, bytes | None]:
    """A card file's card and its PNG avatar (the PNG itself, or a CharX's PNG icon).

    ``max_bytes`` caps what a CharX archive may unpack to.
    """
    if charx.is_charx(data):
        archive = charx.read_charx(data, filename, max_bytes)
        avatar = archive.avatar if archive.avatar and png.is_png(archive.avatar) else None
        return card_from_dict(archive.card, filename), avatar
    if png.is_png(data):
        return card_from_dict(_json_from_png(data, filename), filename), data
    return card_from_dict(load_json_object(data, filename, "card"), filename), None


def _json_from_png(data: bytes, filename: str) -> dict[str, Any]:
    texts = png.text_chunks(png.read_chunks(data, filename))
    encoded = texts.get("ccv3") or texts.get("chara")
    if encoded is None:
        raise FormatError(
            f"{filename}: PNG has no character card (no 'chara' or 'ccv3' text chunk)",
            hint="This looks like a plain image; pick a character card PNG.",
        )
    try:
        decoded = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise FormatError(f"{filename}: card chunk is not valid base64", hint=_HINT) from exc
    return load_json_object(decoded, filename, "embedded card")


def card_to_json(card: Card) -> bytes:
    """Serialise the card's raw dictionary (compact, like ``JSON.stringify``)."""
    return js_dumps(card.raw).encode("utf-8")


def write_card_png(card: Card, image: bytes | None = None) -> bytes:
    """Embed the card in a PNG: V2 JSON in ``chara``, a V3 copy in ``ccv3``, before IEND.

    Old ``chara``/``ccv3`` chunks are removed first. Without ``image`` a small default
    avatar is generated.
    """
    chunks = png.read_chunks(image if image is not None else png.solid_png(), "avatar image")
    v2 = card.to_v2().raw
    v2_raw = {**v2, "spec": SPEC_V2, "spec_version": "2.0"}
    v3_raw = {**v2, "spec": SPEC_V3, "spec_version": "3.0"}
    new = [("chara", _b64(v2_raw)), ("ccv3", _b64(v3_raw))]
    return png.write_chunks(png.replace_text_chunks(chunks, new))


def _b64(raw: dict[str, Any]) -> str:
    return base64.b64encode(js_dumps(raw).encode("utf-8")).decode("ascii")
