"""Usage: the ledger of requests sent to backends, listed and summed (``pytavern usage``,
``GET /api/usage``, the web UI's usage view)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytavern.engine.services._base import Service
from pytavern.engine.usage import GroupBy, UsageTotal, parse_since, summarize
from pytavern.errors import ConfigError
from pytavern.store.usage import UsageRow, list_usage

GROUPS: tuple[GroupBy, ...] = ("day", "chat", "connection", "model")


@dataclass(frozen=True, slots=True)
class UsageReport:
    """The ledger's rows since a time, with their totals by a group and overall."""

    since: float | None
    by: GroupBy
    rows: list[UsageRow]
    groups: list[UsageTotal]
    total: UsageTotal

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a report (``usage --json`` and the REST route)."""
        return {
            "since": self.since,
            "by": self.by,
            "requests": [row.to_dict() for row in self.rows],
            "groups": [group.to_dict() for group in self.groups],
            "total": self.total.to_dict(),
        }


def check_group(by: str) -> GroupBy:
    """``by`` as a group name, or a ``ConfigError`` listing the valid ones."""
    for group in GROUPS:
        if by == group:
            return group
    raise ConfigError(f"cannot group usage by {by!r}", hint=f"Use one of: {', '.join(GROUPS)}")


class UsageService(Service):
    """The usage ledger of the engine's user."""

    def rows(self, since: float | None = None) -> list[UsageRow]:
        """The ledger's rows from ``since`` (a Unix time), oldest first."""
        store = self._engine.store
        return list_usage(store.engine, store.owner_id, since=since)

    def report(self, *, since: str | float | None = None, by: str = "day") -> UsageReport:
        """The rows since ``since`` (``7d``, ``12h``, an ISO date, or a Unix time) with
        their totals per ``by`` (day, chat, connection or model)."""
        moment = parse_since(since) if isinstance(since, str) else since
        group = check_group(by)
        rows = self.rows(moment)
        total = UsageTotal("total")
        for row in rows:
            total.add(row)
        return UsageReport(moment, group, rows, summarize(rows, group), total)
