"""The price table, costs, ``--since`` and the ledger's summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytavern.engine import usage
from pytavern.engine.usage import Price, load_prices, parse_since, price_for, summarize
from pytavern.errors import ConfigError
from pytavern.store.usage import UsageRow
from pytavern.types import Usage


def _row(**values: object) -> UsageRow:
    base: dict[str, object] = {
        "at": 1_800_000_000.0,
        "chat_id": 1,
        "connection": "c",
        "api": "claude",
        "model": "m",
        "input_tokens": 10,
        "output_tokens": 5,
        "cached_tokens": None,
        "cache_write_tokens": None,
        "reasoning_tokens": None,
        "duration": 1.0,
        "ttft": 0.2,
        "outcome": "ok",
    }
    return UsageRow(**(base | values))  # type: ignore[arg-type]


def test_longest_prefix_prices_a_dated_model() -> None:
    prices = load_prices(None)
    assert price_for(prices, "claude-sonnet-4-5-20250929") == prices["claude-sonnet-4"]
    assert price_for(prices, "gpt-4o-mini-2024-07-18") == prices["gpt-4o-mini"]
    assert price_for(prices, "openai/gpt-4o") == prices["gpt-4o"]
    assert price_for(prices, "my-local-model") is None and price_for(prices, None) is None


def test_cost_counts_cache_reads_and_writes_at_their_prices() -> None:
    price = Price(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
    usage = Usage(1_000_000, 100_000, cached_tokens=600_000, cache_write_tokens=300_000)
    # 100k fresh * 3 + 600k * 0.3 + 300k * 3.75 + 100k * 15, per million
    assert price.cost(usage) == pytest.approx(0.3 + 0.18 + 1.125 + 1.5)
    assert Price(input=1.0, output=2.0).cost(Usage(1_000_000, 0, cached_tokens=10)) == 1.0


def test_user_table_overrides_and_bad_table_says_how(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(usage.time, "monotonic", lambda: clock[0])
    (tmp_path / "prices.json").write_text(
        json.dumps({"models": {"my-local-model": {"input": 0.1, "output": 0.2}}})
    )
    prices = load_prices(tmp_path)
    assert price_for(prices, "my-local-model") == Price(0.1, 0.2)
    assert "gpt-4o" in prices
    (tmp_path / "prices.json").write_text(json.dumps({"models": {"x": {"input": "cheap"}}}))
    assert load_prices(tmp_path) is prices  # the file is looked at once a second at most
    clock[0] += usage.PRICES_RECHECK_SECONDS
    with pytest.raises(ConfigError) as caught:
        load_prices(tmp_path)
    assert "'x'" in caught.value.message and caught.value.hint


def test_since_takes_durations_and_dates() -> None:
    assert parse_since("7d", now=1000000.0) == 1000000.0 - 7 * 86400
    assert parse_since("30m", now=5000.0) == 5000.0 - 1800
    assert parse_since("2026-12-01T00:00:00+00:00") == 1796083200.0
    assert parse_since(None) is None
    with pytest.raises(ConfigError):
        parse_since("last tuesday")


def test_summaries_group_and_total() -> None:
    rows = [
        _row(connection="a", cost=0.5),
        _row(connection="b", outcome="error", input_tokens=None, output_tokens=None),
        _row(connection="a", cached_tokens=4, cost=None),
    ]
    groups = {g.key: g for g in summarize(rows, "connection")}
    assert groups["a"].requests == 2 and groups["a"].cost == 0.5 and groups["a"].unpriced == 1
    assert groups["a"].cached_tokens == 4 and groups["b"].failed == 1
    assert [g.key for g in summarize(rows, "chat")] == ["1"]
