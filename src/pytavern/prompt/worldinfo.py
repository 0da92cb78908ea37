"""The World Info engine: which lorebook entries fire, why, and where they go.

Follows SillyTavern's ``checkWorldInfo``: scan recent messages for keys, apply secondary
key logic, constants, timed effects, probability, inclusion groups, the token budget and
recursion; then place the activated entries by position. Randomness comes from the
``random.Random`` passed in, timed effects from the :class:`TimedState` passed in.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pytavern.formats.worldinfo import Lorebook, WorldInfoEntry
from pytavern.prompt.tokens import Tokenizer
from pytavern.prompt.wi_groups import filter_groups
from pytavern.prompt.wi_match import ScanBuffer, match_entry
from pytavern.prompt.wi_timed import TimedEffects, TimedState

BEFORE, AFTER, AN_TOP, AN_BOTTOM, AT_DEPTH, EM_TOP, EM_BOTTOM, OUTLET = range(8)
ROLES = ("system", "user", "assistant")


@dataclass(frozen=True, slots=True)
class WorldInfoSettings:
    """Global World Info settings (the defaults of SillyTavern's shipped settings.json)."""

    scan_depth: int = 2
    budget_percent: int = 25
    budget_cap: int = 0
    min_activations: int = 0
    min_activations_depth_max: int = 0
    recursive: bool = True
    max_recursion_steps: int = 0
    include_names: bool = True
    case_sensitive: bool = False
    match_whole_words: bool = True
    use_group_scoring: bool = False
    character_strategy: int = 1
    """0 evenly, 1 character lore first, 2 global lore first."""


@dataclass(frozen=True, slots=True)
class WorldInfoSources:
    """The lorebooks in play for one chat."""

    global_books: Sequence[Lorebook] = ()
    character_books: Sequence[Lorebook] = ()
    chat_books: Sequence[Lorebook] = ()
    persona_books: Sequence[Lorebook] = ()


@dataclass(frozen=True, slots=True)
class ActivatedEntry:
    """An entry that made it into the prompt, with the reason it fired."""

    entry: WorldInfoEntry
    content: str
    reason: str


LoreRewrite = Callable[[str, int | None], str]
"""Rewrites an activated entry's content as it is placed: ``(content, depth)``, the depth
being the entry's for @depth entries and ``None`` for the others (what SillyTavern's regex
scripts of the World Info placement get); an entry left empty is not placed."""


@dataclass(frozen=True, slots=True)
class DepthInjection:
    """Entries to insert ``depth`` messages from the end, as ``role``."""

    depth: int
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class WorldInfoResult:
    """What the scan produced, placed by position."""

    before: str = ""
    after: str = ""
    examples_top: tuple[str, ...] = ()
    examples_bottom: tuple[str, ...] = ()
    an_top: tuple[str, ...] = ()
    an_bottom: tuple[str, ...] = ()
    depth: tuple[DepthInjection, ...] = ()
    activated: tuple[ActivatedEntry, ...] = ()
    timed_state: TimedState = field(default_factory=TimedState)
    budget: int = 0
    overflowed: bool = False
    skipped: tuple[tuple[WorldInfoEntry, str], ...] = ()
    outlets: tuple[tuple[str, str], ...] = ()
    """Outlet entries' content by outlet name (``{{outlet::name}}`` places it)."""

    def outlet_map(self) -> dict[str, str]:
        """The outlets as a ``{name: content}`` dictionary."""
        return dict(self.outlets)


def _sorted(books: Sequence[Lorebook]) -> list[WorldInfoEntry]:
    return sorted((e for b in books for e in b.entries), key=lambda e: -e.order)


def sorted_entries(sources: WorldInfoSources, strategy: int) -> list[WorldInfoEntry]:
    """All entries in scan order: chat lore, persona lore, then by character strategy."""
    glob, char = _sorted(sources.global_books), _sorted(sources.character_books)
    if strategy == 1:
        rest = char + glob
    elif strategy == 2:
        rest = glob + char
    else:
        rest = sorted(glob + char, key=lambda e: -e.order)
    return _sorted(sources.chat_books) + _sorted(sources.persona_books) + rest


def _decorators(content: str) -> tuple[set[str], str]:
    if not content.startswith("@@"):
        return set(), content
    lines = content.split("\n")
    found: set[str] = set()
    for i, line in enumerate(lines):
        if not line.startswith("@@"):
            return found, "\n".join(lines[i:])
        name = line.lstrip("@").split()[0] if line.lstrip("@") else ""
        found.add("@@" + name)
    return found, ""


@dataclass(slots=True)
class _Scan:
    entries: list[WorldInfoEntry]
    buffer: ScanBuffer
    timed: TimedEffects
    settings: WorldInfoSettings
    seeded: random.Random | int
    """The generator of probability rolls, or its seed until the first roll."""
    tokenizer: Tokenizer
    macros: Callable[[str], str]
    budget: int
    count_overhead: int = 0
    generation_type: str = "normal"
    rewrite: LoreRewrite | None = None
    activated: dict[str, ActivatedEntry] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    skipped: list[tuple[WorldInfoEntry, str]] = field(default_factory=list)
    overflowed: bool = False
    used_tokens: int = 0

    @property
    def rng(self) -> random.Random:
        """The generator of probability rolls (made on the first: most scans roll none)."""
        if isinstance(self.seeded, int):
            self.seeded = random.Random(self.seeded)
        return self.seeded


def check_world_info(
    messages_newest_first: Sequence[str],
    sources: WorldInfoSources,
    *,
    max_context: int,
    tokenizer: Tokenizer,
    rng: random.Random | int,
    timed_state: TimedState | None = None,
    chat_length: int | None = None,
    settings: WorldInfoSettings | None = None,
    macros: Callable[[str], str] | None = None,
    injections: Sequence[str] = (),
    character_name: str = "",
    dry_run: bool = False,
    generation_type: str = "normal",
    character_tags: Sequence[str] = (),
    global_scan: Mapping[str, str] | None = None,
    count_overhead: int = 0,
    rewrite: LoreRewrite | None = None,
) -> WorldInfoResult:
    """Scan the chat and return the activated entries, placed, with the new timed state.

    ``messages_newest_first`` only needs as many items as the deepest scan reads.
    ``chat_length`` is the number of messages in the chat (for timed effects).
    ``generation_type`` is matched against entries' ``triggers``; ``character_tags`` against
    ``characterFilter.tags``; ``global_scan`` holds the texts of the extra scan sources
    (``{"matchScenario": scenario, ...}``). ``rng`` rolls probabilities; given its seed,
    it is made on the first roll. ``rewrite`` runs on each activated entry's content as it
    is placed (see ``LoreRewrite``).
    """
    s = settings or WorldInfoSettings()
    entries = [
        e
        for e in sorted_entries(sources, s.character_strategy)
        if _allowed(e, character_name) and _tags_allowed(e, character_tags)
    ]
    budget = round(s.budget_percent * max_context / 100) or 1
    if s.budget_cap > 0:
        budget = min(budget, s.budget_cap)
    if _nothing_to_scan(entries, timed_state):
        return WorldInfoResult(timed_state=TimedState(), budget=budget)
    length = chat_length if chat_length is not None else len(messages_newest_first)
    timed = TimedEffects(timed_state or TimedState(), length, entries)
    if not dry_run:
        timed.check()
    buffer = ScanBuffer(
        messages_newest_first,
        depth=s.scan_depth,
        case_sensitive=s.case_sensitive,
        match_whole_words=s.match_whole_words,
        macros=macros,
        global_scan=global_scan,
    )
    for text in injections:
        buffer.add_inject(text)
    scan = _Scan(
        entries, buffer, timed, s, rng, tokenizer, macros or (lambda t: t), budget, count_overhead
    )
    scan.generation_type = generation_type
    scan.rewrite = rewrite
    if entries:
        _run(scan, length)
    if not dry_run:
        timed.record([a.entry for a in scan.activated.values()])
    return _place(scan, timed.state())


def _nothing_to_scan(entries: Sequence[WorldInfoEntry], timed_state: TimedState | None) -> bool:
    """No entry and no timed effect: the scan would activate nothing and keep no state
    (the usual chat without lore skips it)."""
    return not entries and (timed_state is None or not (timed_state.sticky or timed_state.cooldown))


def _allowed(entry: WorldInfoEntry, character_name: str) -> bool:
    flt = (entry.raw or {}).get("characterFilter")
    if not isinstance(flt, dict) or not flt.get("names") or not character_name:
        return True
    included = character_name in flt["names"]
    return not included if flt.get("isExclude") else included


def _tags_allowed(entry: WorldInfoEntry, tags: Sequence[str]) -> bool:
    """``characterFilter.tags``: SillyTavern keeps tag ids; a card carries tag names, so an
    entry's tag matches a card tag by either."""
    flt = (entry.raw or {}).get("characterFilter")
    if not isinstance(flt, dict) or not isinstance(flt.get("tags"), list) or not flt["tags"]:
        return True
    wanted = {str(t).casefold() for t in flt["tags"]}
    included = any(t.casefold() in wanted for t in tags)
    return not included if flt.get("isExclude") else included


def _triggered(entry: WorldInfoEntry, generation_type: str) -> bool:
    """An entry with ``triggers`` fires only on those generation types."""
    return not entry.triggers or generation_type in entry.triggers


def _run(scan: _Scan, chat_length: int) -> None:
    levels = sorted({e.delay_until_recursion for e in scan.entries if e.delay_until_recursion})
    level = levels.pop(0) if levels else 0
    state, count, activated_text = "initial", 0, ""
    while state:
        if scan.settings.max_recursion_steps and count >= scan.settings.max_recursion_steps:
            break
        count += 1
        found = _find(scan, state, level)
        new = sorted(found, key=lambda e: (not scan.timed.is_active("sticky", e), 0))
        groups_removed = filter_groups(new, scan, state != "min_activations")
        scan.skipped.extend((e, "lost its inclusion group") for e in groups_removed)
        successful = _admit(scan, new, found, _budget_count(scan, activated_text))
        for_recursion = [e for e in successful if not e.prevent_recursion]
        state = _next_state(scan, state, for_recursion, chat_length)
        if not state and levels:
            state, level = "recursion", levels.pop(0)
        if state:
            text = "\n".join(
                scan.activated[e.key_id].content
                for e in for_recursion
                if e.key_id in scan.activated
            )
            scan.buffer.add_recurse(text)
            activated_text = text + "\n" + activated_text


def _find(scan: _Scan, state: str, level: int) -> dict[WorldInfoEntry, str]:
    found: dict[WorldInfoEntry, str] = {}
    timed, rec = scan.timed, state == "recursion"
    for e in scan.entries:
        if e.key_id in scan.failed or e.key_id in scan.activated or e.disable:
            continue
        if not _triggered(e, scan.generation_type):
            continue
        sticky = timed.is_active("sticky", e)
        if timed.is_active("delay", e) or (timed.is_active("cooldown", e) and not sticky):
            continue
        if e.delay_until_recursion and not sticky and (not rec or e.delay_until_recursion > level):
            continue
        if rec and scan.settings.recursive and e.exclude_recursion and not sticky:
            continue
        reason = _reason(scan, e, sticky, state)
        if reason:
            found[e] = reason if not rec else f"recursion: {reason}"
    return found


def _reason(scan: _Scan, e: WorldInfoEntry, sticky: bool, state: str) -> str | None:
    decorators, _ = _decorators(e.content)
    if "@@activate" in decorators:
        return "@@activate decorator"
    if "@@dont_activate" in decorators:
        return None
    if e.constant:
        return "constant"
    if sticky:
        return "sticky"
    if not e.keys:
        return None
    return match_entry(scan.buffer, e, state != "min_activations")


def _budget_count(scan: _Scan, text: str) -> int:
    """What SillyTavern's budget check counts for ``text``: nothing when empty, else its tokens
    plus, in chat completion, the overhead of wrapping it in one system message."""
    return scan.tokenizer.count(text) + scan.count_overhead if text else 0


def _admit(
    scan: _Scan, new: list[WorldInfoEntry], found: dict[WorldInfoEntry, str], prior: int
) -> list[WorldInfoEntry]:
    """Roll probabilities and spend the budget (``ignoreBudget`` entries pass a spent one)."""
    successful: list[WorldInfoEntry] = []
    new_content = ""  # SillyTavern counts the entries admitted so far as one text
    over = f"over the World Info budget of {scan.budget} tokens"
    ignoring = sum(1 for e in new if e.ignore_budget)
    for i, e in enumerate(new):
        ignoring -= e.ignore_budget
        if scan.overflowed and not e.ignore_budget:
            if ignoring > 0:
                scan.skipped.append((e, over))
                continue
            scan.skipped.extend((x, over) for x in new[i:])
            break
        sticky = scan.timed.is_active("sticky", e)
        rolls = e.use_probability and e.probability != 100 and not sticky
        if rolls and scan.rng.random() * 100 > e.probability:
            scan.failed.add(e.key_id)
            scan.skipped.append((e, f"failed its {e.probability}% probability roll"))
            continue
        content = scan.macros(_decorators(e.content)[1])
        successful.append(e)
        new_content += content + "\n"
        spent = _budget_count(scan, new_content)
        if not e.ignore_budget and prior + spent >= scan.budget:
            scan.overflowed = True
            scan.skipped.append((e, over))
            continue
        scan.activated[e.key_id] = ActivatedEntry(e, content, found[e])
        scan.used_tokens = prior + spent
    return successful


def _next_state(scan: _Scan, state: str, for_recursion: list[WorldInfoEntry], length: int) -> str:
    s, buffer = scan.settings, scan.buffer
    nxt = ""
    if s.recursive and not scan.overflowed and for_recursion:
        nxt = "recursion"
    if s.recursive and not scan.overflowed and state == "min_activations" and buffer.has_recurse():
        nxt = "recursion"
    if not nxt and not scan.overflowed and 0 < s.min_activations > len(scan.activated):
        depth = buffer.current_depth()
        over = (s.min_activations_depth_max > 0 and depth > s.min_activations_depth_max) or (
            depth > length
        )
        if not over:
            buffer.advance()
            nxt = "min_activations"
    return nxt


def _place(scan: _Scan, state: TimedState) -> WorldInfoResult:
    ordered = sorted(scan.activated.values(), key=lambda a: -a.entry.order)
    ordered.reverse()
    by_pos: dict[int, list[str]] = {p: [] for p in range(7)}
    outlets: dict[str, list[str]] = {}
    depth: dict[tuple[int, int], list[str]] = {}
    for a in ordered:
        content = _placed_content(scan, a)
        if not content:
            continue
        if a.entry.position == AT_DEPTH:
            depth.setdefault((a.entry.depth, a.entry.role), []).append(content)
        elif a.entry.position == OUTLET:
            if a.entry.outlet_name:
                outlets.setdefault(a.entry.outlet_name, []).insert(0, content)
        elif a.entry.position in by_pos:
            by_pos[a.entry.position].append(content)
    injections = tuple(
        DepthInjection(d, ROLES[r] if 0 <= r < 3 else "system", "\n".join(c))
        for (d, r), c in reversed(list(depth.items()))
    )
    return WorldInfoResult(
        before="\n".join(by_pos[BEFORE]),
        after="\n".join(by_pos[AFTER]),
        examples_top=tuple(by_pos[EM_TOP]),
        examples_bottom=tuple(by_pos[EM_BOTTOM]),
        an_top=tuple(by_pos[AN_TOP]),
        an_bottom=tuple(by_pos[AN_BOTTOM]),
        depth=injections,
        activated=tuple(reversed(ordered)),
        timed_state=state,
        budget=scan.budget,
        overflowed=scan.overflowed,
        skipped=tuple(scan.skipped),
        outlets=tuple((name, "\n".join(parts)) for name, parts in outlets.items()),
    )


def _placed_content(scan: _Scan, activated: ActivatedEntry) -> str:
    """An activated entry's content as it is placed (``scan.rewrite`` run on it)."""
    if scan.rewrite is None or not activated.content:
        return activated.content
    entry = activated.entry
    return scan.rewrite(activated.content, entry.depth if entry.position == AT_DEPTH else None)
