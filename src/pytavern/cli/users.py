"""``pytavern users``: accounts for a server run with ``PYTAVERN_ACCOUNTS=1``."""

from __future__ import annotations

import sys

import click

from pytavern.cli._common import data_dir_option, json_option, open_services, print_json, run_async
from pytavern.engine.services.users import check_password


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return check_password(password)


@click.group("users")
@data_dir_option
def users_group() -> None:
    """Manage user accounts."""


@users_group.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Make the user an admin.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@data_dir_option
@run_async
async def add_command(name: str, admin: bool, password_stdin: bool) -> None:
    """Add a user. The first admin also receives the data made before accounts were on."""
    password = _read_password(password_stdin)
    async with open_services() as services:
        _user, first_admin = services.users.add(name, password, admin=admin)
    role = "admin" if admin else "user"
    click.echo(
        f"added {role} {name!r}" + (" (and gave it the existing data)" if first_admin else "")
    )


@users_group.command("list")
@data_dir_option
@json_option
@run_async
async def list_command(as_json: bool) -> None:
    """List the users."""
    async with open_services() as services:
        users = services.users.all()
    rows = [{"id": u.id, "name": u.name, "admin": u.is_admin, "enabled": u.enabled} for u in users]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        flags = ("admin " if row["admin"] else "") + ("" if row["enabled"] else "disabled")
        click.echo(f"{row['name']:<20} {flags}")


@users_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@data_dir_option
@run_async
async def passwd_command(name: str, password_stdin: bool) -> None:
    """Set a user's password (ends their sessions)."""
    password = _read_password(password_stdin)
    async with open_services() as services:
        services.users.set_password(name, password)
    click.echo(f"password of {name!r} changed")


@users_group.command("disable")
@click.argument("name")
@data_dir_option
@run_async
async def disable_command(name: str) -> None:
    """Stop a user from logging in (ends their sessions)."""
    async with open_services() as services:
        services.users.set_enabled(name, False)
    click.echo(f"{name!r} disabled")


@users_group.command("enable")
@click.argument("name")
@data_dir_option
@run_async
async def enable_command(name: str) -> None:
    """Let a disabled user log in again."""
    async with open_services() as services:
        services.users.set_enabled(name, True)
    click.echo(f"{name!r} enabled")
