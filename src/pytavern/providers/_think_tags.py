"""Reasoning sent inside the reply's text as ``<think>...</think>`` (Perplexity's
sonar-reasoning, MiniMax-M2), split from the reply as it streams.

``ThinkSplitter`` takes text pieces as they arrive (a tag may be cut across pieces) and
gives ``ReasoningDelta`` for what is inside a leading ``<think>`` block and ``TextDelta``
for the rest. Text that does not open with ``<think>`` passes through unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal

from pytavern.events import ReasoningDelta, StreamEvent, TextDelta

OPEN = "<think>"
CLOSE = "</think>"


class ThinkSplitter:
    """Splits a leading ``<think>`` block off a streamed reply."""

    def __init__(self) -> None:
        self.state: Literal["start", "thinking", "closed", "text"] = "start"
        self.buffer = ""

    def feed(self, text: str) -> list[StreamEvent]:
        """Take one piece of the reply's text."""
        if self.state == "closed":  # the line breaks after </think> are not the reply's
            return self._to_text(text.lstrip("\n")) if text.lstrip("\n") else []
        if self.state == "text":
            return [TextDelta(text)] if text else []
        self.buffer += text
        if self.state == "start":
            head = self.buffer.lstrip()
            if len(head) < len(OPEN) and OPEN.startswith(head):
                return []  # not yet known whether the reply opens with <think>
            if not head.startswith(OPEN):
                return self._to_text(self.buffer)
            self.state, self.buffer = "thinking", head[len(OPEN) :]
        return self._thinking()

    def end(self) -> list[StreamEvent]:
        """Give what is still held back when the reply ends."""
        rest, self.buffer = self.buffer, ""
        if not rest:
            return []
        return [ReasoningDelta(rest)] if self.state == "thinking" else [TextDelta(rest)]

    def _thinking(self) -> list[StreamEvent]:
        index = self.buffer.find(CLOSE)
        if index >= 0:
            thought, after = self.buffer[:index], self.buffer[index + len(CLOSE) :]
            events: list[StreamEvent] = [ReasoningDelta(thought)] if thought else []
            self.state, self.buffer = "closed", ""
            return events + self.feed(after)
        keep = _partial_close(self.buffer)
        thought, self.buffer = self.buffer[: len(self.buffer) - keep], self.buffer[-keep:]
        if not keep:
            self.buffer = ""
        return [ReasoningDelta(thought)] if thought else []

    def _to_text(self, text: str) -> list[StreamEvent]:
        self.state, self.buffer = "text", ""
        return [TextDelta(text)] if text else []


def _partial_close(text: str) -> int:
    """How many trailing characters of ``text`` could begin ``</think>``."""
    for size in range(min(len(CLOSE) - 1, len(text)), 0, -1):
        if CLOSE.startswith(text[-size:]):
            return size
    return 0


async def split_think_tags(events: AsyncIterator[StreamEvent]) -> AsyncIterator[StreamEvent]:
    """``events`` with a leading ``<think>`` block of the text turned into reasoning."""
    splitter = ThinkSplitter()
    async for event in events:
        if isinstance(event, TextDelta):
            for split in splitter.feed(event.text):
                yield split
            continue
        if not isinstance(event, ReasoningDelta):
            for held in splitter.end():
                yield held
        yield event
