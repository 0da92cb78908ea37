"""The learned characters-per-token ratio: what a report implies, bounds, smoothing."""

from __future__ import annotations

from pytavern.engine.token_ratio import (
    MAX_RATIO,
    MIN_RATIO,
    next_ratio,
    observed_ratio,
    stored_ratio,
)
from pytavern.prompt.inputs import Breakdown, BuiltPrompt
from pytavern.prompt.wi_timed import TimedState
from pytavern.types import ChatMessage


def _built(text: str | None = None, messages: tuple[ChatMessage, ...] = ()) -> BuiltPrompt:
    return BuiltPrompt(
        messages=messages,
        text=text,
        stop=[],
        prefill=None,
        breakdown=Breakdown((), 0, 0, 0, 0, 0, 0),
        timed_state=TimedState(),
    )


def test_a_text_prompt_implies_characters_over_tokens() -> None:
    assert observed_ratio(_built("x" * 400), 100) == 4.0
    assert observed_ratio(_built("x" * 400), 10) is None  # too small a prompt to learn from
    assert observed_ratio(_built("x" * 4000), 100) is None  # 40 a token: counts something else


def test_a_chat_prompt_leaves_out_the_per_message_overhead() -> None:
    messages = (ChatMessage("system", "x" * 200), ChatMessage("user", "y" * 97, name="Ada"))
    # 300 characters; 3 tokens a message and 1 for the name are not characters
    assert observed_ratio(_built(messages=messages), 107) == 3.0


def test_the_ratio_moves_part_way_and_stays_in_bounds() -> None:
    assert next_ratio(3.35, 4.35) == 3.65
    assert next_ratio(7.9, 15.0) == MAX_RATIO
    assert next_ratio(1.1, 0.6) == MIN_RATIO
    assert stored_ratio({"chars_per_token": 4.2}) == 4.2
    assert stored_ratio({"chars_per_token": 99}) == 3.35
    assert stored_ratio({"chars_per_token": "4"}) == 3.35
    assert stored_ratio({}) == 3.35
