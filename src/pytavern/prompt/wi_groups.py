"""World Info inclusion groups: one winner per group (override, scoring, weighted roll)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from pytavern.formats.worldinfo import WorldInfoEntry

if TYPE_CHECKING:
    from pytavern.prompt.worldinfo import _Scan


def _names(group: str) -> list[str]:
    return [g for g in re.split(r",\s*", group) if g] if group else []


def _groups(entries: list[WorldInfoEntry]) -> dict[str, list[WorldInfoEntry]]:
    grouped: dict[str, list[WorldInfoEntry]] = {}
    for e in entries:
        for name in _names(e.group):
            grouped.setdefault(name, []).append(e)
    return grouped


def filter_groups(
    new: list[WorldInfoEntry], scan: _Scan, with_recursion: bool
) -> list[WorldInfoEntry]:
    """Remove group losers from ``new`` in place and return them (``filterByInclusionGroups``)."""
    grouped = _groups(new)
    removed: list[WorldInfoEntry] = []

    def remove(e: WorldInfoEntry) -> None:
        if e in new:
            new.remove(e)
            removed.append(e)

    sticky_groups = _timed_filter(grouped, scan, remove)
    _score_filter(grouped, scan, remove, sticky_groups, with_recursion)
    for key, group in grouped.items():
        if key in sticky_groups:
            continue
        if any(key in _names(a.entry.group) for a in scan.activated.values()):
            for e in group:
                remove(e)
            continue
        live = [e for e in group if e in new]
        if len(live) <= 1:
            continue
        winner = _winner(live, scan)
        for e in live:
            if e is not winner:
                remove(e)
    return removed


def _timed_filter(
    grouped: dict[str, list[WorldInfoEntry]], scan: _Scan, remove: Callable[[WorldInfoEntry], None]
) -> set[str]:
    sticky_groups: set[str] = set()
    for key, group in grouped.items():
        sticky = [e for e in group if scan.timed.is_active("sticky", e)]
        if sticky:
            sticky_groups.add(key)
            for e in group:
                if e not in sticky:
                    remove(e)
        for e in group:
            if scan.timed.is_active("cooldown", e) or scan.timed.is_active("delay", e):
                remove(e)
    return sticky_groups


def _score_filter(
    grouped: dict[str, list[WorldInfoEntry]],
    scan: _Scan,
    remove: Callable[[WorldInfoEntry], None],
    sticky_groups: set[str],
    with_recursion: bool,
) -> None:
    default = scan.settings.use_group_scoring
    for key, group in grouped.items():
        if key in sticky_groups or not (default or any(e.use_group_scoring for e in group)):
            continue
        scores = {id(e): scan.buffer.score(e, with_recursion) for e in group}
        best = max(scores.values())
        for e in list(group):
            scored = e.use_group_scoring if e.use_group_scoring is not None else default
            if scored and scores[id(e)] < best:
                remove(e)
                group.remove(e)


def _winner(group: list[WorldInfoEntry], scan: _Scan) -> WorldInfoEntry | None:
    prios = sorted((e for e in group if e.group_override), key=lambda e: -e.order)
    if prios:
        return prios[0]
    total = sum(e.group_weight for e in group)
    roll = scan.rng.random() * total
    current = 0
    for e in group:
        current += e.group_weight
        if roll <= current:
            return e
    return None
