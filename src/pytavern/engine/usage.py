"""What requests cost and how they add up: the price table and the ledger's summaries.

Prices are per million tokens, from the bundled ``pytavern/data/prices.json``, overridden
model by model by ``prices.json`` in the data directory (the user's own table). A model
takes the price of the longest name in the table it starts with
(``claude-sonnet-4-5-20250929`` is priced as ``claude-sonnet-4``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pytavern.errors import ConfigError
from pytavern.store.usage import UsageRow
from pytavern.types import Usage

GroupBy = Literal["chat", "connection", "day", "model"]
PRICE_FIELDS = ("input", "output", "cache_read", "cache_write")


@dataclass(frozen=True, slots=True)
class Price:
    """A model's prices in dollars per million tokens (cache prices default to input's)."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None

    def cost(self, usage: Usage) -> float:
        """What ``usage`` costs; ``input_tokens`` counts the whole prompt, cached or not."""
        read = usage.cached_tokens or 0
        written = usage.cache_write_tokens or 0
        fresh = max(0, (usage.input_tokens or 0) - read - written)
        total = (
            fresh * self.input
            + read * (self.input if self.cache_read is None else self.cache_read)
            + written * (self.input if self.cache_write is None else self.cache_write)
            + (usage.output_tokens or 0) * self.output
        )
        return round(total / 1_000_000, 8)


def _parse_prices(data: Any, where: str) -> dict[str, Price]:
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        raise ConfigError(
            f"the price table {where} has no 'models' object",
            hint='Write {"models": {"MODEL": {"input": 3.0, "output": 15.0}}} (per million)',
        )
    prices: dict[str, Price] = {}
    for name, entry in models.items():
        try:
            values = {k: float(entry[k]) for k in PRICE_FIELDS if entry.get(k) is not None}
            prices[str(name)] = Price(**values)
        except (TypeError, KeyError, ValueError, AttributeError):
            raise ConfigError(
                f"the price of {name!r} in {where} is not valid",
                hint="Give numbers for 'input' and 'output' (and optionally 'cache_read', "
                "'cache_write'), in dollars per million tokens",
            ) from None
    return prices


@lru_cache(maxsize=1)
def bundled_prices() -> dict[str, Price]:
    """The price table shipped with pytavern (read once)."""
    bundled = resources.files("pytavern.data").joinpath("prices.json").read_text("utf-8")
    return _parse_prices(json.loads(bundled), "pytavern/data/prices.json")


PRICES_RECHECK_SECONDS = 1.0
"""How long a merged price table is used before the user's file is looked at again (every
request records its cost: asking the file system each time costs more than the rest)."""

_user_tables: dict[Path, tuple[tuple[int, int] | None, dict[str, Price], float]] = {}
"""Merged price tables by user file: the file's (modification time, size) when read (``None``
when there was none), the table, and when the file was last looked at."""


def load_prices(data_dir: Path | None) -> dict[str, Price]:
    """The bundled price table with the user's ``prices.json`` over it (the user's file is
    read and merged again only when it changed, looked at once a second at most; the table
    is shared: do not change it)."""
    if data_dir is None:
        return bundled_prices()
    user_file = data_dir / "prices.json"
    now = time.monotonic()
    cached = _user_tables.get(user_file)
    if cached is not None and now - cached[2] < PRICES_RECHECK_SECONDS:
        return cached[1]
    signature = _file_signature(user_file)
    if cached is None or cached[0] != signature:
        merged = bundled_prices() | _read_user_prices(user_file)  # {} when there is none
    else:
        merged = cached[1]
    _user_tables[user_file] = (signature, merged, now)
    return merged


def _file_signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def _read_user_prices(user_file: Path) -> dict[str, Price]:
    prices: dict[str, Price] = {}
    if user_file.exists():
        try:
            data = json.loads(user_file.read_text("utf-8"))
        except ValueError as exc:
            raise ConfigError(
                f"{user_file} is not valid JSON ({exc})", hint="Fix it or move it aside"
            ) from None
        prices = _parse_prices(data, str(user_file))
    return prices


def price_for(prices: dict[str, Price], model: str | None) -> Price | None:
    """The price of ``model``: the longest table name it starts with (case-insensitive).

    Answers are remembered per table (a table is never changed once made: ``load_prices``
    makes a new one when the user's file changes).
    """
    if not model:
        return None
    memo = _answers.get(id(prices))
    if memo is None or memo[0] is not prices:
        if len(_answers) >= _TABLES_REMEMBERED:
            _answers.clear()
        memo = _answers[id(prices)] = (prices, {})
    answers = memo[1]
    if model in answers:
        return answers[model]
    wanted = model.lower().rsplit("/", 1)[-1]
    best = max((name for name in prices if wanted.startswith(name.lower())), key=len, default=None)
    price = prices[best] if best else None
    if len(answers) < _MODELS_REMEMBERED:
        answers[model] = price
    return price


_answers: dict[int, tuple[dict[str, Price], dict[str, Price | None]]] = {}
"""``price_for``'s answers by table (the table itself is kept: ids are reused)."""
_TABLES_REMEMBERED = 8
_MODELS_REMEMBERED = 512


@dataclass
class UsageTotal:
    """The sum of a group of ledger rows."""

    key: str
    requests: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cost: float = 0.0
    unpriced: int = 0
    """Answered requests whose model has no price (their cost is not in ``cost``)."""
    models: set[str] = field(default_factory=set)

    def add(self, row: UsageRow) -> None:
        """Count one row."""
        self.requests += 1
        self.failed += row.outcome == "error"
        self.input_tokens += row.input_tokens or 0
        self.output_tokens += row.output_tokens or 0
        self.cached_tokens += row.cached_tokens or 0
        self.reasoning_tokens += row.reasoning_tokens or 0
        if row.cost is not None:
            self.cost = round(self.cost + row.cost, 8)
        elif row.output_tokens:
            self.unpriced += 1
        if row.model:
            self.models.add(row.model)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "key": self.key,
            "requests": self.requests,
            "failed": self.failed,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cached_tokens": self.cached_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cost": self.cost,
            "unpriced": self.unpriced,
            "models": sorted(self.models),
        }


def day_of(at: float) -> str:
    """The local calendar day of a Unix time (``2026-12-03``)."""
    return datetime.fromtimestamp(at, tz=UTC).astimezone().strftime("%Y-%m-%d")


def group_key(row: UsageRow, by: GroupBy) -> str:
    """The group a row falls in."""
    if by == "chat":
        return str(row.chat_id) if row.chat_id is not None else "-"
    if by == "connection":
        return row.connection
    if by == "model":
        return row.model or "-"
    return day_of(row.at)


def summarize(rows: list[UsageRow], by: GroupBy) -> list[UsageTotal]:
    """Totals per group, in order of first appearance (days are in order)."""
    totals: dict[str, UsageTotal] = {}
    for row in rows:
        key = group_key(row, by)
        totals.setdefault(key, UsageTotal(key)).add(row)
    return list(totals.values())


def parse_since(text: str | None, *, now: float | None = None) -> float | None:
    """A ``--since`` value as a Unix time: ``7d``, ``12h``, ``30m`` or an ISO date/time."""
    if not text:
        return None
    now = time.time() if now is None else now
    units = {"d": 86400.0, "h": 3600.0, "m": 60.0}
    stripped = text.strip()
    if stripped[-1:] in units and stripped[:-1].isdigit():
        return now - int(stripped[:-1]) * units[stripped[-1]]
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        raise ConfigError(
            f"--since {text!r} is neither a duration nor a date",
            hint="Use e.g. 7d, 12h, 30m, 2026-12-01 or 2026-12-01T14:00",
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.timestamp()
