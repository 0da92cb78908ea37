"""``pytavern backup | restore | doctor | export-all | import-sillytavern``: your data, kept."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from pytavern.cli._common import (
    current_settings,
    data_dir_option,
    fail,
    json_option,
    open_services,
    print_json,
    run_async,
)
from pytavern.engine.services.data import (
    ImportSummary,
    check_backup,
    create_backup,
    doctor,
    restore_backup,
)
from pytavern.errors import ConfigError, PytavernError


def _passphrase(variable: str | None) -> str | None:
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise ConfigError(
            f"the environment variable {variable} is not set",
            hint=f"Put the passphrase in {variable} (it is never read from the command line)",
        )
    return value


@click.command("backup")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Backup file to write."
)
@click.option("--with-keys", is_flag=True, help="Include the API keys, sealed with a passphrase.")
@click.option(
    "--passphrase-env", metavar="VAR", help="Environment variable holding the passphrase."
)
@json_option
@data_dir_option
def backup_command(
    out: Path | None, with_keys: bool, passphrase_env: str | None, as_json: bool
) -> None:
    """Write a consistent backup of the database (safe while the server runs)."""
    try:
        if with_keys and not passphrase_env:
            raise ConfigError(
                "--with-keys needs --passphrase-env VAR",
                hint="The keys are only written sealed with a passphrase taken from VAR",
            )
        passphrase = _passphrase(passphrase_env) if with_keys else None
        info = create_backup(current_settings(), out, passphrase=passphrase)
    except PytavernError as error:
        fail(error, as_json=as_json)
        return
    if as_json:
        print_json(info.to_dict())
    else:
        keys = " (with the API keys, sealed)" if info.has_keys else ""
        click.echo(f"Backed up to {info.path}{keys}, {info.size:,} bytes.")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Restore even while a server uses the data folder.")
@click.option("--passphrase-env", metavar="VAR", help="Variable holding the keys' passphrase.")
@click.option("--check", "check_only", is_flag=True, help="Only check that the file is sound.")
@json_option
@data_dir_option
def restore_command(
    file: Path, force: bool, passphrase_env: str | None, check_only: bool, as_json: bool
) -> None:
    """Replace the database with a backup, after checking the backup is sound."""
    try:
        if check_only:
            info = check_backup(file)
            if as_json:
                print_json({"sound": True, **info.to_dict()})
            else:
                click.echo(f"{file} is a sound backup made {info.created:%Y-%m-%d %H:%M} UTC.")
            return
        passphrase = _passphrase(passphrase_env)
        result = restore_backup(current_settings(), file, force=force, passphrase=passphrase)
    except PytavernError as error:
        fail(error, as_json=as_json)
        return
    if as_json:
        print_json(
            {
                "server_pid": result.server_pid,
                "restored": result.backup.to_dict(),
                "keys": result.keys_restored,
                "previous": str(result.previous) if result.previous else None,
            }
        )
        return
    click.echo(f"Restored {file} (made {result.backup.created:%Y-%m-%d %H:%M} UTC).")
    if result.server_pid is not None:
        click.echo(f"Restart the running server (pid {result.server_pid}) to use it.")
    if result.previous:
        click.echo(f"What was there before is saved in {result.previous}.")
    if result.backup.has_keys and not result.keys_restored:
        click.echo("The backup holds API keys; give --passphrase-env to restore them too.")


@click.command("doctor")
@json_option
@data_dir_option
def doctor_command(as_json: bool) -> None:
    """Check the database's integrity and report orphaned or broken rows (changes nothing)."""
    try:
        report = doctor(current_settings())
    except PytavernError as error:
        fail(error, as_json=as_json)
        return
    if as_json:
        findings = [
            {"check": f.check, "count": f.count, "detail": f.detail, "ids": list(f.example_ids)}
            for f in report.findings
        ]
        print_json({"sound": report.sound, "findings": findings, "counts": report.counts})
    else:
        for finding in report.findings:
            ids = (
                f" (e.g. ids {', '.join(map(str, finding.example_ids))})"
                if finding.example_ids
                else ""
            )
            click.echo(f"problem: {finding.check}: {finding.count}, {finding.detail}{ids}")
        summary = ", ".join(f"{count} {table}" for table, count in report.counts.items())
        click.echo(
            ("The database is sound" if report.sound else "Problems found") + f": {summary}."
        )
    if not report.sound:
        sys.exit(1)


class StderrProgress:
    """Progress on stderr: one updating line on a terminal, a line per tenth otherwise."""

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.tty = sys.stderr.isatty()
        self.shown = -1

    def __call__(self, done: int, total: int, name: str) -> None:
        """Show that ``done`` of ``total`` files are through (the last being ``name``)."""
        if self.tty:
            line = f"\r{self.verb} {done}/{total}  {name[:60]:<60}"
            click.echo(line, err=True, nl=done == total)
            return
        tenth = done * 10 // max(total, 1)
        if tenth != self.shown:
            self.shown = tenth
            click.echo(f"{self.verb} {done}/{total}", err=True)


@click.command("export-all")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="New or empty folder to write (shaped like SillyTavern's data/default-user).",
)
@json_option
@data_dir_option
@run_async
async def export_all_command(out: Path, as_json: bool) -> None:
    """Write every character, chat, lorebook, preset and persona as a SillyTavern folder."""
    async with open_services() as services:
        counts = services.data.export_all(out, progress=StderrProgress("exporting"))
    if as_json:
        print_json({"out": str(out), **counts})
        return
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    click.echo(f"Exported to {out}: {summary}.")


def _print_summary(summary: ImportSummary) -> None:
    for name, reason in summary.skipped:
        click.echo(f"skipped {name}: {reason}")
    for name, error in summary.broken:
        click.echo(f"broken {name}: {error}")
    verb = "Would import" if summary.dry_run else "Imported"
    kinds = ("characters", "chats", "lorebooks", "presets", "personas")
    more = [k for k, n in summary.imported.items() if n and k not in kinds]  # groups, documents...
    counts = ", ".join(f"{summary.imported[k]} {k}" for k in (*kinds, *more))
    present = sum(summary.present.values())
    click.echo(
        f"{verb} {counts}; {present} already present, {len(summary.skipped)} skipped, "
        f"{len(summary.broken)} broken."
    )


@click.command("import-sillytavern")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Read and check everything; store nothing.")
@json_option
@data_dir_option
@run_async
async def import_sillytavern_command(path: Path, dry_run: bool, as_json: bool) -> None:
    """Import a SillyTavern folder (data/default-user, or an old install with public/).

    Cards with their chats, World Info, presets and personas. Running it again imports
    nothing twice; broken files are listed and skipped.
    """
    async with open_services() as services:
        summary = services.data.import_sillytavern(
            path, dry_run=dry_run, progress=StderrProgress("importing")
        )
    if as_json:
        print_json(summary.to_dict())
    else:
        _print_summary(summary)


DATA_COMMANDS = (
    backup_command,
    restore_command,
    doctor_command,
    export_all_command,
    import_sillytavern_command,
)
"""The commands this module adds to ``pytavern``."""
