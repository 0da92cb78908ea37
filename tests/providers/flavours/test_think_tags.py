"""``<think>`` blocks inside a streamed reply become reasoning, however the tags are cut."""

from __future__ import annotations

import pytest

from pytavern.events import ReasoningDelta, StreamEvent, TextDelta
from pytavern.providers._think_tags import ThinkSplitter

REPLY = "<think>Let me see.</think>\n\nThe answer."


def _split(pieces: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    events: list[StreamEvent] = []
    for piece in pieces:
        events += splitter.feed(piece)
    events += splitter.end()
    thought = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    return thought, text


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 100])
def test_tags_cut_anywhere(size: int) -> None:
    pieces = [REPLY[i : i + size] for i in range(0, len(REPLY), size)]
    assert _split(pieces) == ("Let me see.", "The answer.")


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        (["Plain ", "reply"], ("", "Plain reply")),
        (["<th", "is is text"], ("", "<this is text")),
        (["  <think>half"], ("half", "")),
        (["Text with <think>inside</think>"], ("", "Text with <think>inside</think>")),
        (["<"], ("", "<")),
    ],
)
def test_only_a_leading_block_is_reasoning(pieces: list[str], expected: tuple[str, str]) -> None:
    assert _split(pieces) == expected
