"""Which group members answer, by SillyTavern's activation strategies (``group-chats.js``).

- natural (0): members named in the text answer first (in word order), then each member
  rolls against its talkativeness (in shuffled order); if nobody was picked, one random
  chatty member answers. The last speaker does not answer itself unless the group allows
  self-responses or the user just wrote.
- list (1): every enabled member answers once, in member order.
- manual (2): nobody answers the user's message; a member answers only when asked (or one
  random member when the group is asked to go on without new input, e.g. auto-mode).
- pooled (3): one member who has not spoken since the user's last message; when all have,
  a random one other than the last speaker.

Muted (disabled) members never answer by a strategy (a member can still be asked to answer
directly). Randomness comes from the ``random.Random`` passed in.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

NATURAL, LIST, MANUAL, POOLED = range(4)
STRATEGY_NAMES = {"natural": NATURAL, "list": LIST, "manual": MANUAL, "pooled": POOLED}
DEFAULT_TALKATIVENESS = 0.5


@dataclass(frozen=True, slots=True)
class Member:
    """A group member as the strategies see it (``key`` is its SillyTavern avatar id)."""

    key: str
    name: str
    talkativeness: float = DEFAULT_TALKATIVENESS
    muted: bool = False


@dataclass(frozen=True, slots=True)
class SpokenLine:
    """A message of the chat: who wrote it (``member`` when a member did)."""

    name: str
    is_user: bool
    member: str | None = None
    is_system: bool = False
    text: str = ""


def words(text: str) -> list[str]:
    """SillyTavern's ``extractAllWords``: lower-cased runs of word characters."""
    return [w.lower() for w in re.findall(r"\b\w+\b", text)]


def activate(
    strategy: int,
    members: Sequence[Member],
    history: Sequence[SpokenLine],
    *,
    user_input: str | None,
    rng: random.Random,
    allow_self_responses: bool = False,
) -> list[Member]:
    """The members who answer, in the order they answer.

    ``history`` is the chat, oldest first, including the user's message when there is one;
    ``user_input`` is that message's text (``None`` when the group goes on by itself).
    """
    enabled = [m for m in members if not m.muted]
    is_user_input = bool(user_input)
    last = history[-1] if history else None
    if strategy == LIST:
        return _unique(enabled)
    if strategy == MANUAL:
        return [] if is_user_input or not enabled else [rng.choice(enabled)]
    if strategy == POOLED:
        return _pooled(enabled, history, last, is_user_input, rng)
    text = user_input or ""
    if not is_user_input and last is not None and not last.is_system:
        text = last.text
    banned = None
    if not is_user_input and last is not None and not last.is_user and not allow_self_responses:
        banned = last.name
    return _natural(enabled, text, banned, rng)


def _unique(members: Sequence[Member]) -> list[Member]:
    seen: set[str] = set()
    out = []
    for m in members:
        if m.key not in seen:
            seen.add(m.key)
            out.append(m)
    return out


def _natural(
    members: Sequence[Member], text: str, banned: str | None, rng: random.Random
) -> list[Member]:
    picked: list[Member] = []
    for word in words(text):
        for m in members:
            if m.name != banned and word in words(m.name):
                picked.append(m)
                break
    chatty: list[Member] = []
    shuffled = list(members)
    rng.shuffle(shuffled)
    for m in shuffled:
        if m.name == banned:
            continue
        if m.talkativeness >= rng.random():
            picked.append(m)
        if m.talkativeness > 0:
            chatty.append(m)
    pool = chatty or list(members)
    if not picked and pool:
        picked.append(rng.choice(pool))
    return _unique(picked)


def _pooled(
    members: Sequence[Member],
    history: Sequence[SpokenLine],
    last: SpokenLine | None,
    is_user_input: bool,
    rng: random.Random,
) -> list[Member]:
    if not members:
        return []
    spoken: set[str] = set()
    if not is_user_input:
        for line in reversed(history):
            if line.is_user:
                break
            if not line.is_system and line.member:
                spoken.add(line.member)
    not_spoken = [m for m in members if m.key not in spoken]
    if not_spoken:
        return [rng.choice(not_spoken)]
    last_member = last.member if last is not None and not last.is_user else None
    pool = [m for m in members if m.key != last_member] if len(members) > 1 else list(members)
    return [rng.choice(pool or list(members))]


def swipe_speaker(members: Sequence[Member], history: Sequence[SpokenLine]) -> Member | None:
    """Who answers a swipe, regenerate or continue: the member who wrote the last reply."""
    for line in reversed(history):
        if line.is_user or line.is_system:
            continue
        for m in members:
            if (line.member and m.key == line.member) or (not line.member and m.name == line.name):
                return m
        return None
    return None
