"""Which tokenizer a connection's prompts are counted with."""

from __future__ import annotations

from typing import Any, cast

from pytavern.engine.prompting import pick_counting
from pytavern.prompt.tokens import counts_key
from pytavern.providers.base import Provider
from pytavern.store import ConnectionRecord

RECORD = ConnectionRecord(1, "c", "custom", None, "some-model", {}, False)


class InProcess:
    """A provider that counts in process: one token a word."""

    family = "chat"

    def count_tokens_sync(self, text: str) -> int:
        return len(text.split())


class Remote:
    """A provider that cannot count at all."""

    family = "chat"
    count_tokens_sync: Any = None


def test_a_provider_counting_in_process_counts_and_the_others_estimate() -> None:
    local = pick_counting(RECORD, cast(Provider, InProcess()))
    assert local.kind == "local model"
    assert local.tokenizer.count("three small words") == 3
    assert pick_counting(RECORD, cast(Provider, Remote())).kind == "estimate"


def test_counts_with_a_local_model_are_named_by_its_provider() -> None:
    first, second = cast(Provider, InProcess()), cast(Provider, InProcess())
    key = counts_key(pick_counting(RECORD, first).tokenizer)
    assert key is not None and key == counts_key(pick_counting(RECORD, first).tokenizer)
    assert key != counts_key(pick_counting(RECORD, second).tokenizer)
