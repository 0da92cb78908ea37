"""``pytavern users``: accounts for a server run with ``PYTAVERN_ACCOUNTS=1``."""

from __future__ import annotations

import sys

import click

from pytavern.cli._common import data_dir_option, json_option, open_engine, print_json, run_async
from pytavern.engine.setup import mark_defaults_installed
from pytavern.errors import ConfigError, NotFoundError
from pytavern.secrets import SecretStore
from pytavern.security.passwords import hash_password

MIN_PASSWORD = 8


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password is shorter than {MIN_PASSWORD} characters")
    return password


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
    async with open_engine() as engine:
        first_admin = admin and not any(u.is_admin for u in engine.store.list_users())
        user = engine.store.create_user(name, hash_password(password), is_admin=admin)
        if first_admin:
            engine.store.adopt_unowned(user.id)
            mark_defaults_installed(engine.store.for_owner(user.id))
            _adopt_keys(engine.secrets, user.id)
    role = "admin" if admin else "user"
    click.echo(
        f"added {role} {name!r}" + (" (and gave it the existing data)" if first_admin else "")
    )


def _adopt_keys(secrets: SecretStore, user_id: int) -> None:
    mine = secrets.for_owner(user_id)
    for name in secrets.names():
        key = secrets.get(name)
        if key:
            mine.set(name, key)
            secrets.delete(name)


@users_group.command("list")
@data_dir_option
@json_option
@run_async
async def list_command(as_json: bool) -> None:
    """List the users."""
    async with open_engine() as engine:
        users = engine.store.list_users()
    rows = [{"id": u.id, "name": u.name, "admin": u.is_admin, "enabled": u.enabled} for u in users]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        flags = ("admin " if row["admin"] else "") + ("" if row["enabled"] else "disabled")
        click.echo(f"{row['name']:<20} {flags}")


async def _update(name: str, **changes: object) -> None:
    async with open_engine() as engine:
        user = engine.store.find_user(name)
        if user is None:
            raise NotFoundError(
                f"no user named {name!r}", hint="List them with `pytavern users list`"
            )
        engine.store.update_user(user.id, **changes)  # type: ignore[arg-type]


@users_group.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@data_dir_option
@run_async
async def passwd_command(name: str, password_stdin: bool) -> None:
    """Set a user's password (ends their sessions)."""
    await _update(name, password_hash=hash_password(_read_password(password_stdin)))
    click.echo(f"password of {name!r} changed")


@users_group.command("disable")
@click.argument("name")
@data_dir_option
@run_async
async def disable_command(name: str) -> None:
    """Stop a user from logging in (ends their sessions)."""
    await _update(name, enabled=False)
    click.echo(f"{name!r} disabled")


@users_group.command("enable")
@click.argument("name")
@data_dir_option
@run_async
async def enable_command(name: str) -> None:
    """Let a disabled user log in again."""
    await _update(name, enabled=True)
    click.echo(f"{name!r} enabled")
