"""World Info scanning helpers: the scan buffer, key matching and scoring."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from pytavern.formats.worldinfo import WorldInfoEntry

MAX_SCAN_DEPTH = 1000
_MATCHER = "\x01"
_JOINER = "\n" + _MATCHER


@lru_cache(maxsize=4096)
def parse_regex(key: str) -> re.Pattern[str] | None:
    """Turn a ``/pattern/flags`` key into a compiled regex, or ``None`` for plain keys."""
    m = re.fullmatch(r"/([\w\W]+?)/([gimsuy]*)", key)
    if not m:
        return None
    flags = 0
    for letter, flag in (("i", re.IGNORECASE), ("m", re.MULTILINE), ("s", re.DOTALL)):
        if letter in m.group(2):
            flags |= flag
    try:
        return re.compile(m.group(1), flags)
    except re.error:
        return None


@lru_cache(maxsize=8192)
def _word_regex(word: str) -> re.Pattern[str]:
    return re.compile(r"(?:^|\W)(" + re.escape(word) + r")(?:$|\W)", re.ASCII)


class ScanBuffer:
    """The text World Info scans: recent messages, injections and recursion text.

    ``global_scan`` maps a scan-source switch (``matchCharacterDescription``...) to its text;
    an entry with that switch on also scans the text, after the messages (SillyTavern's
    ``WorldInfoBuffer.get``).
    """

    def __init__(
        self,
        messages_newest_first: Sequence[str],
        *,
        depth: int,
        case_sensitive: bool,
        match_whole_words: bool,
        macros: Callable[[str], str] | None = None,
        global_scan: Mapping[str, str] | None = None,
    ) -> None:
        self._messages = messages_newest_first
        self._global = {k: v for k, v in (global_scan or {}).items() if v}
        self.depth = depth
        self.skew = 0
        self.start_depth = 0
        self.case_sensitive = case_sensitive
        self.match_whole_words = match_whole_words
        self._inject: list[str] = []
        self._recurse: list[str] = []
        self._macros = macros
        self._cache: dict[tuple[int, bool, tuple[str, ...]], str] = {}

    def add_inject(self, text: str) -> None:
        """Add scan-enabled prompt text (an author's note, a depth prompt)."""
        self._inject.append(text)
        self._cache.clear()

    def add_recurse(self, text: str) -> None:
        """Add activated entries' content for the next recursion step."""
        self._recurse.append(text)
        self._cache.clear()

    def has_recurse(self) -> bool:
        """Whether recursion text was added."""
        return bool(self._recurse)

    def advance(self) -> None:
        """Scan one message deeper (min activations)."""
        self.skew += 1
        self._cache.clear()

    def current_depth(self) -> int:
        """The global scan depth plus the min-activation skew."""
        return self.depth + self.skew

    def text(self, entry: WorldInfoEntry, with_recursion: bool = True) -> str:
        """The text an entry sees (its own scan depth, or the global one)."""
        depth = entry.scan_depth if entry.scan_depth is not None else self.current_depth()
        depth = min(depth, MAX_SCAN_DEPTH)
        sources = tuple(n for n in entry.scan_sources if n in self._global)
        key = (depth, with_recursion, sources)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if depth <= self.start_depth:
            result = ""
        else:
            picked = _take(self._messages, depth)
            result = _MATCHER + _JOINER.join(picked)
            for name in sources:
                result += _JOINER + self._global[name]
            if self._inject:
                result += _JOINER + _JOINER.join(self._inject)
            if self._recurse and with_recursion:
                result += _JOINER + _JOINER.join(self._recurse)
        self._cache[key] = result
        return result

    def _key(self, key: str) -> str:
        return self._macros(key).strip() if self._macros and "{{" in key else key.strip()

    def match(self, haystack: str, key: str, entry: WorldInfoEntry) -> bool:
        """Whether ``key`` occurs in ``haystack`` under the entry's matching rules."""
        needle = self._key(key)
        if not needle:
            return False
        regex = parse_regex(needle) if needle[0] == "/" else None
        if regex is not None:
            return regex.search(haystack) is not None
        case = entry.case_sensitive if entry.case_sensitive is not None else self.case_sensitive
        if not case:
            haystack, needle = _lower(haystack), _lower_key(needle)
        whole = (
            entry.match_whole_words
            if entry.match_whole_words is not None
            else self.match_whole_words
        )
        if needle not in haystack:
            return False  # cheap pre-check: a whole word is also a substring
        if whole and len(needle.split()) <= 1:
            return _word_regex(needle).search(haystack) is not None
        return True

    def score(self, entry: WorldInfoEntry, with_recursion: bool) -> int:
        """Number of matching keys, for inclusion-group scoring (``getScore``)."""
        if not entry.keys:
            return 0
        hay = self.text(entry, with_recursion)
        primary = sum(1 for k in entry.keys if self.match(hay, k, entry))
        secondary = sum(1 for k in entry.secondary_keys if self.match(hay, k, entry))
        if entry.secondary_keys:
            if entry.selective_logic == 0:
                return primary + secondary
            if entry.selective_logic == 3 and secondary == len(entry.secondary_keys):
                return primary + secondary
        return primary


def _take(messages: Sequence[str], count: int) -> list[str]:
    picked: list[str] = []
    for i in range(count):
        try:
            picked.append(messages[i].strip())
        except IndexError:
            break
    return picked


@lru_cache(maxsize=65536)
def _lower_key(key: str) -> str:
    return key.lower()


@lru_cache(maxsize=64)
def _lower(text: str) -> str:
    return text.lower()


LOGIC_NAMES = {0: "AND ANY", 1: "NOT ALL", 2: "NOT ANY", 3: "AND ALL"}


def match_entry(buffer: ScanBuffer, entry: WorldInfoEntry, with_recursion: bool) -> str | None:
    """Return why the entry's keys match (primary + secondary logic), or ``None``."""
    hay = buffer.text(entry, with_recursion)
    if not hay:
        return None
    primary = next((k for k in entry.keys if buffer.match(hay, k, entry)), None)
    if primary is None:
        return None
    if not (entry.selective and entry.secondary_keys):
        return f"primary key {primary!r}"
    logic = entry.selective_logic
    hits = [buffer.match(hay, k, entry) for k in entry.secondary_keys]
    ok = {0: any(hits), 1: not all(hits), 2: not any(hits), 3: all(hits)}.get(logic, any(hits))
    if not ok:
        return None
    return f"primary key {primary!r} and secondary keys ({LOGIC_NAMES.get(logic, 'AND ANY')})"
