"""Client-side stop strings, for backends that cannot be sent them exactly (NovelAI).

``StopMatcher`` takes streamed text piece by piece, emits what is safe to show, holds back
a tail that might be the start of a stop string, and reports when a stop string appeared.
"""

from __future__ import annotations


class StopMatcher:
    """Cuts a streamed text at the first of ``stops``."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = [stop for stop in stops if stop]
        self._pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """Take ``text``; return what may be shown now (``stopped`` tells if a stop hit)."""
        if self.stopped:
            return ""
        buffer = self._pending + text
        cut = min((i for i in (buffer.find(s) for s in self.stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._pending = ""
            return buffer[:cut]
        hold = self._held_tail(buffer)
        self._pending = buffer[len(buffer) - hold :] if hold else ""
        return buffer[: len(buffer) - hold]

    def flush(self) -> str:
        """Return what was held back (at the end of the stream)."""
        rest, self._pending = self._pending, ""
        return "" if self.stopped else rest

    def _held_tail(self, buffer: str) -> int:
        longest = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(buffer)), longest, -1):
                if buffer.endswith(stop[:size]):
                    longest = size
                    break
        return longest
