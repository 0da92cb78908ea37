"""SillyTavern World Info files (``{"entries": {"<uid>": entry}}``) and card ``character_book``.

A :class:`Lorebook` keeps the raw file; :class:`WorldInfoEntry` is a typed, defaulted view of
one entry (what the World Info engine reads). Conversions to and from a card's embedded
``character_book`` follow SillyTavern's field mapping.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from pytavern.errors import FormatError
from pytavern.formats._json import js_dumps, load_json_object

ENTRY_DEFAULTS: dict[str, Any] = {
    "key": [],
    "keysecondary": [],
    "comment": "",
    "content": "",
    "constant": False,
    "vectorized": False,
    "selective": True,
    "selectiveLogic": 0,
    "addMemo": False,
    "order": 100,
    "position": 0,
    "disable": False,
    "excludeRecursion": False,
    "preventRecursion": False,
    "delayUntilRecursion": 0,
    "probability": 100,
    "useProbability": True,
    "depth": 4,
    "group": "",
    "groupOverride": False,
    "groupWeight": 100,
    "scanDepth": None,
    "caseSensitive": None,
    "matchWholeWords": None,
    "useGroupScoring": None,
    "automationId": "",
    "role": 0,
    "sticky": None,
    "cooldown": None,
    "delay": None,
}
"""SillyTavern's defaults for a new entry (``newWorldInfoEntryDefinition``)."""


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else default
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    return default


_INTEGER = re.compile(r"-?[0-9]+")
"""ASCII digits only: ``str.isdigit`` also accepts characters ``int`` refuses (e.g. ``¹``)."""


def _opt_int(value: Any) -> int | None:
    return None if value is None or value == "" else _int(value, 0)


def _opt_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


SCAN_SOURCES = (
    "matchPersonaDescription",
    "matchCharacterDescription",
    "matchCharacterPersonality",
    "matchCharacterDepthPrompt",
    "matchScenario",
    "matchCreatorNotes",
)
"""SillyTavern's per-entry switches that add a card or persona text to what the keys scan,
in the order SillyTavern appends them."""


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(v) for v in value if isinstance(v, str) and v)


def _keys(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return ()
    return tuple(k for k in (str(v).strip() for v in value if v is not None) if k)


@dataclass(frozen=True, slots=True, eq=False)
class WorldInfoEntry:
    """One lorebook entry, with SillyTavern's defaults applied to missing fields."""

    uid: int
    keys: tuple[str, ...]
    secondary_keys: tuple[str, ...]
    content: str
    comment: str = ""
    constant: bool = False
    selective: bool = True
    selective_logic: int = 0
    order: int = 100
    position: int = 0
    disable: bool = False
    exclude_recursion: bool = False
    prevent_recursion: bool = False
    delay_until_recursion: int = 0
    probability: int = 100
    use_probability: bool = True
    depth: int = 4
    role: int = 0
    group: str = ""
    group_override: bool = False
    group_weight: int = 100
    scan_depth: int | None = None
    case_sensitive: bool | None = None
    match_whole_words: bool | None = None
    use_group_scoring: bool | None = None
    sticky: int | None = None
    cooldown: int | None = None
    delay: int | None = None
    outlet_name: str = ""
    """Position 7 (outlet): the name ``{{outlet::name}}`` places this entry's content under."""
    ignore_budget: bool = False
    triggers: tuple[str, ...] = ()
    """Generation types the entry may fire on (``normal``, ``continue``...); empty means all."""
    scan_sources: tuple[str, ...] = ()
    """Extra texts the entry's keys are matched against (see :data:`SCAN_SOURCES`)."""
    book: str = ""
    raw: dict[str, Any] | None = None
    key_id: str = ""
    """A stable identity across calls: ``"<book>.<uid>"`` (SillyTavern's timed-effect key)."""

    def __post_init__(self) -> None:
        if not self.key_id:
            object.__setattr__(self, "key_id", f"{self.book}.{self.uid}")


def entry_from_dict(raw: dict[str, Any], book: str = "", uid: int | None = None) -> WorldInfoEntry:
    """Build a typed entry from a World Info entry dictionary (missing fields defaulted)."""
    g = dict(ENTRY_DEFAULTS)
    g.update({k: v for k, v in raw.items() if v is not None})
    dur = g.get("delayUntilRecursion")
    return WorldInfoEntry(
        uid=_int(raw.get("uid", uid), uid or 0),
        keys=_keys(g["key"]),
        secondary_keys=_keys(g["keysecondary"]),
        content=str(g["content"] or ""),
        comment=str(g["comment"] or ""),
        constant=bool(g["constant"]),
        selective=bool(g["selective"]) if g["selective"] is not None else True,
        selective_logic=_int(g["selectiveLogic"], 0),
        order=_int(g["order"], 100),
        position=_int(g["position"], 0),
        disable=bool(g["disable"]),
        exclude_recursion=bool(g["excludeRecursion"]),
        prevent_recursion=bool(g["preventRecursion"]),
        delay_until_recursion=1 if dur is True else _int(dur, 0),
        probability=_int(g["probability"], 100),
        use_probability=bool(g["useProbability"]) if g["useProbability"] is not None else True,
        depth=_int(g["depth"], 4),
        role=_int(g["role"], 0),
        group=str(g["group"] or ""),
        group_override=bool(g["groupOverride"]),
        group_weight=_int(g["groupWeight"], 100),
        scan_depth=_opt_int(g["scanDepth"]),
        case_sensitive=_opt_bool(g["caseSensitive"]),
        match_whole_words=_opt_bool(g["matchWholeWords"]),
        use_group_scoring=_opt_bool(g["useGroupScoring"]),
        sticky=_opt_int(g["sticky"]) or None,
        cooldown=_opt_int(g["cooldown"]) or None,
        delay=_opt_int(g["delay"]) or None,
        outlet_name=str(g.get("outletName") or ""),
        ignore_budget=bool(g.get("ignoreBudget")),
        triggers=_strings(g.get("triggers")),
        scan_sources=tuple(name for name in SCAN_SOURCES if g.get(name)),
        book=book,
        raw=raw,
    )


@dataclass(frozen=True, slots=True, eq=False)
class Lorebook:
    """A World Info file: its name, raw dictionary and parsed entries (in file order)."""

    name: str
    raw: dict[str, Any]
    entries: tuple[WorldInfoEntry, ...]


def lorebook_from_dict(raw: dict[str, Any], name: str, filename: str = "<lorebook>") -> Lorebook:
    """Wrap a World Info dictionary, checking its shape."""
    entries = raw.get("entries")
    if isinstance(entries, list):
        items = [(str(i), e) for i, e in enumerate(entries)]
    elif isinstance(entries, dict):
        items = list(entries.items())
    else:
        raise FormatError(
            f"{filename}: lorebook has no 'entries' object",
            hint="Pick a SillyTavern World Info JSON file.",
        )
    parsed = []
    for key, entry in items:
        if not isinstance(entry, dict):
            raise FormatError(
                f"{filename}: lorebook entry {key!r} is not an object",
                hint="Check the file was exported by SillyTavern and not edited by hand.",
            )
        parsed.append(entry_from_dict(entry, name, _int(key, 0)))
    return Lorebook(name, raw, tuple(parsed))


def read_lorebook(data: bytes, filename: str, name: str | None = None) -> Lorebook:
    """Read a World Info JSON file (or a bare card ``character_book``)."""
    raw = load_json_object(data, filename, "lorebook")
    book_name = name or filename.rsplit("/", 1)[-1].removesuffix(".json")
    if isinstance(raw.get("entries"), list):
        return lorebook_from_character_book(raw, book_name)
    return lorebook_from_dict(raw, book_name, filename)


def lorebook_to_json(book: Lorebook) -> bytes:
    """Serialise the lorebook's raw dictionary."""
    return js_dumps(book.raw).encode("utf-8")


def lorebook_from_character_book(book: dict[str, Any], name: str) -> Lorebook:
    """Convert a card's ``character_book`` into World Info (``originalData`` keeps the book)."""
    entries: dict[str, Any] = {}
    for index, entry in enumerate(book.get("entries") or []):
        if isinstance(entry, dict):
            uid = entry.get("id", index)
            entries[str(uid)] = _wi_entry_from_book_entry(entry, uid, index)
    return lorebook_from_dict({"entries": entries, "originalData": book}, name)


def _wi_entry_from_book_entry(entry: dict[str, Any], uid: Any, index: int) -> dict[str, Any]:
    ext = entry.get("extensions") if isinstance(entry.get("extensions"), dict) else {}
    assert isinstance(ext, dict)
    pos = ext.get("position")
    if pos is None:
        pos = 0 if entry.get("position") == "before_char" else 1
    return {
        **ENTRY_DEFAULTS,
        "uid": uid,
        "key": entry.get("keys") or [],
        "keysecondary": entry.get("secondary_keys") or [],
        "comment": entry.get("comment") or "",
        "content": entry.get("content") or "",
        "constant": entry.get("constant") or False,
        "selective": entry.get("selective") or False,
        "order": entry.get("insertion_order", 100),
        "position": pos,
        "excludeRecursion": ext.get("exclude_recursion", False),
        "preventRecursion": ext.get("prevent_recursion", False),
        "delayUntilRecursion": ext.get("delay_until_recursion", False),
        "disable": not entry.get("enabled", True),
        "addMemo": bool(entry.get("comment")),
        "displayIndex": ext.get("display_index", index),
        "probability": ext.get("probability", 100),
        "useProbability": ext.get("useProbability", True),
        "depth": ext.get("depth", 4),
        "selectiveLogic": ext.get("selectiveLogic", 0),
        "group": ext.get("group", ""),
        "groupOverride": ext.get("group_override", False),
        "groupWeight": ext.get("group_weight", 100),
        "scanDepth": ext.get("scan_depth"),
        "caseSensitive": ext.get("case_sensitive"),
        "matchWholeWords": ext.get("match_whole_words"),
        "useGroupScoring": ext.get("use_group_scoring"),
        "automationId": ext.get("automation_id", ""),
        "role": ext.get("role", 0),
        "vectorized": ext.get("vectorized", False),
        "sticky": ext.get("sticky"),
        "cooldown": ext.get("cooldown"),
        "delay": ext.get("delay"),
        **_extra_from_book_ext(ext),
    }


_BOOK_EXTRA = (
    ("outlet_name", "outletName"),
    ("ignore_budget", "ignoreBudget"),
    ("triggers", "triggers"),
    ("match_persona_description", "matchPersonaDescription"),
    ("match_character_description", "matchCharacterDescription"),
    ("match_character_personality", "matchCharacterPersonality"),
    ("match_character_depth_prompt", "matchCharacterDepthPrompt"),
    ("match_scenario", "matchScenario"),
    ("match_creator_notes", "matchCreatorNotes"),
    ("character_filter", "characterFilter"),
)
"""Newer World Info fields and their names in a ``character_book`` entry's extensions."""


def _extra_from_book_ext(ext: dict[str, Any]) -> dict[str, Any]:
    return {wi: ext[book] for book, wi in _BOOK_EXTRA if book in ext}


def _extra_to_book_ext(entry: dict[str, Any]) -> dict[str, Any]:
    return {book: entry[wi] for book, wi in _BOOK_EXTRA if wi in entry}


def character_book_from_lorebook(book: Lorebook, name: str | None = None) -> dict[str, Any]:
    """Convert World Info into a card ``character_book`` (SillyTavern's export mapping)."""
    entries = book.raw.get("entries")
    values = entries.values() if isinstance(entries, dict) else entries or []
    return {
        "entries": [_book_entry(e) for e in values if isinstance(e, dict)],
        "name": name if name is not None else book.name,
    }


def _book_entry(e: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": e.get("uid"),
        "keys": e.get("key", []),
        "secondary_keys": e.get("keysecondary", []),
        "comment": e.get("comment", ""),
        "content": e.get("content", ""),
        "constant": e.get("constant", False),
        "selective": e.get("selective", True),
        "insertion_order": e.get("order", 100),
        "enabled": not e.get("disable", False),
        "position": "before_char" if e.get("position", 0) == 0 else "after_char",
        "use_regex": True,
        "extensions": {
            "position": e.get("position", 0),
            "exclude_recursion": e.get("excludeRecursion", False),
            "display_index": e.get("displayIndex"),
            "probability": e.get("probability"),
            "useProbability": e.get("useProbability", False),
            "depth": e.get("depth", 4),
            "selectiveLogic": e.get("selectiveLogic", 0),
            "group": e.get("group", ""),
            "group_override": e.get("groupOverride", False),
            "group_weight": e.get("groupWeight"),
            "prevent_recursion": e.get("preventRecursion", False),
            "delay_until_recursion": e.get("delayUntilRecursion", False),
            "scan_depth": e.get("scanDepth"),
            "match_whole_words": e.get("matchWholeWords"),
            "use_group_scoring": e.get("useGroupScoring", False),
            "case_sensitive": e.get("caseSensitive"),
            "automation_id": e.get("automationId", ""),
            "role": e.get("role", 0),
            "vectorized": e.get("vectorized", False),
            "sticky": e.get("sticky"),
            "cooldown": e.get("cooldown"),
            "delay": e.get("delay"),
            **_extra_to_book_ext(e),
        },
    }
