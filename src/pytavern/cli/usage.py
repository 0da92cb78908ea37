"""``pytavern usage``: what was sent to which backend, the tokens, the time and the cost."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from pytavern.cli._common import data_dir_option, json_option, open_services, print_json, run_async
from pytavern.engine.services import UsageReport


@click.command("usage")
@click.option("--since", help="From when: 7d, 12h, 30m or a date (2026-12-01). Default: all.")
@click.option(
    "--by",
    type=click.Choice(["day", "chat", "connection", "model"]),
    default="day",
    show_default=True,
    help="How to group the totals.",
)
@data_dir_option
@json_option
@run_async
async def usage_command(since: str | None, by: str, as_json: bool) -> None:
    """Show the usage ledger: requests, tokens, time to first token, outcome and cost."""
    async with open_services() as services:
        report = services.usage.report(since=since, by=by)
    if as_json:
        print_json(report.to_dict())
        return
    _print_report(report)


def _money(cost: float, unpriced: int) -> str:
    text = f"${cost:.4f}"
    return f"{text} (+{unpriced} unpriced)" if unpriced else text


def _print_report(report: UsageReport) -> None:
    if not report.rows:
        click.echo("no requests recorded yet")
        return
    click.echo(
        f"{report.by:<20} {'requests':>8} {'failed':>6} {'input':>9} {'cached':>8} "
        f"{'output':>8}  cost"
    )
    for group in [*report.groups, report.total]:
        click.echo(
            f"{group.key[:20]:<20} {group.requests:>8} {group.failed:>6} "
            f"{group.input_tokens:>9} {group.cached_tokens:>8} {group.output_tokens:>8}  "
            f"{_money(group.cost, group.unpriced)}"
        )
    last = report.rows[-1]
    when = datetime.fromtimestamp(last.at, tz=UTC).astimezone().strftime("%Y-%m-%d %H:%M")
    click.echo(f"last request: {when} via {last.connection} ({last.model or '?'}): {last.outcome}")
