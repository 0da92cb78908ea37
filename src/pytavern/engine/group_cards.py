"""Which group member answers a turn, and SillyTavern's "join character cards" modes.

In swap mode (``generation_mode`` 0) the answering member's own card is the prompt's card.
In the join modes (1: members, 2: members including muted ones) the description,
personality, scenario and example messages of every member are joined, each wrapped in the
group's join prefix and suffix (``<FIELDNAME>`` is the field's name), as SillyTavern's
``getGroupCharacterCards`` does; the rest of the card (name, prompts, lore) is the speaker's.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass

from pytavern.formats.cards import Card, card_from_dict
from pytavern.store import Queries

JOINED_FIELDS = (
    ("description", "Description"),
    ("personality", "Personality"),
    ("scenario", "Scenario"),
    ("mes_example", "Example Messages"),
)
"""Card fields the join modes combine, with the name ``<FIELDNAME>`` stands for."""


@dataclass(frozen=True, slots=True)
class GroupSpeaker:
    """The member who answers a group turn, and (join modes) whose cards are joined."""

    character_id: int
    joined: tuple[int, ...] = ()
    """Characters whose cards are joined, in member order (empty: swap mode)."""
    join_prefix: str = ""
    join_suffix: str = ""
    scenario_override: str = ""
    """The group chat's own scenario (``chat_metadata.scenario``), which wins when set."""
    group_names: str = ""
    """The members' names, comma-separated: what ``{{group}}`` and ``{{charIfNotGroup}}``
    say in a group chat."""


def _named(text: str, field_name: str, character: str) -> str:
    """SillyTavern's ``customBaseChatReplace``: ``<FIELDNAME>`` then the character's name.

    ``{{user}}`` and the other macros are left for the prompt to evaluate; ``{{char}}`` must
    be this member's name here, since the prompt's ``{{char}}`` is the speaker's."""
    text = re.sub("<FIELDNAME>", lambda _m: field_name, text, flags=re.IGNORECASE)
    for macro in (r"\{\{char\}\}", "<BOT>", "<CHAR>"):
        text = re.sub(macro, lambda _m: character, text, flags=re.IGNORECASE)
    return text.strip()


def join_field(values: list[tuple[str, str]], field_name: str, prefix: str, suffix: str) -> str:
    """Join one field of several members: ``values`` is ``[(member name, text), ...]``."""
    parts = []
    for character, raw in values:
        if not raw.strip():
            continue
        head = _named(prefix, field_name, character) if prefix else ""
        tail = _named(suffix, field_name, character) if suffix else ""
        text = _named(raw, field_name, character)
        parts.append(f"{head + chr(10) if head else ''}{text}{chr(10) + tail if tail else ''}")
    return "\n".join(p for p in parts if p)


def join_cards(speaker: Card, members: list[Card], group: GroupSpeaker) -> Card:
    """The speaker's card with the joined fields of ``members`` in place of its own."""
    raw = copy.deepcopy(speaker.raw)
    card = card_from_dict(raw, filename=speaker.name or "card")
    data = card.data
    for key, field_name in JOINED_FIELDS:
        values = [(m.name, str(m.data.get(key) or "")) for m in members]
        data[key] = join_field(values, field_name, group.join_prefix, group.join_suffix)
    if group.scenario_override.strip():
        data["scenario"] = group.scenario_override.strip()
    return card


def joined_card(queries: Queries, speaker: Card, group: GroupSpeaker) -> Card:
    """Read the joined members' cards in ``queries``' transaction and join them."""
    members = []
    for character_id in group.joined:
        stored = queries.character(character_id)
        members.append(card_from_dict(json.loads(stored.card_json), filename=stored.name))
    return join_cards(speaker, members, group)
