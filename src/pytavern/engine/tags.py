"""Tags on characters: the card's own ``tags`` (V2/V3 ``data.tags``), counted, matched
without regard to case, and changed in the card so they travel with it."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pytavern.errors import ConfigError
from pytavern.formats.cards import card_from_dict
from pytavern.store import CharacterRecord

MAX_TAG_CHARS = 100


def card_tags(record: CharacterRecord) -> list[str]:
    """A character's tags, as its card lists them."""
    return card_from_dict(record.card).tags


def has_tag(record: CharacterRecord, tag: str) -> bool:
    """Whether the character carries ``tag`` (any case)."""
    wanted = tag.strip().casefold()
    return any(t.strip().casefold() == wanted for t in card_tags(record))


def tag_counts(records: list[CharacterRecord]) -> list[tuple[str, int]]:
    """Every tag in use (spelled as first seen) with how many characters carry it, most
    used first."""
    spelling: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for record in records:
        for tag in {t.strip() for t in card_tags(record) if t.strip()}:
            key = tag.casefold()
            spelling.setdefault(key, tag)
            counts[key] += 1
    return [(spelling[k], n) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def clean_tags(tags: list[str]) -> list[str]:
    """Tags trimmed, empty ones dropped, duplicates (any case) removed, order kept."""
    seen: set[str] = set()
    kept: list[str] = []
    for tag in (t.strip() for t in tags):
        if len(tag) > MAX_TAG_CHARS:
            raise ConfigError(f"a tag has at most {MAX_TAG_CHARS} characters")
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            kept.append(tag)
    return kept


def card_with_tags(card: dict[str, Any], tags: list[str]) -> dict[str, Any]:
    """The card with ``tags`` set where its version keeps them (and V1's root field)."""
    changed = dict(card)
    if isinstance(changed.get("data"), dict):
        changed["data"] = {**changed["data"], "tags": tags}
    if "data" not in changed or "tags" in changed:
        changed["tags"] = tags
    return changed
