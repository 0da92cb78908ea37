"""``pytavern connections``: add, list, remove, choose, test and list models."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from pytavern.cli._common import data_dir_option, json_option, open_services, print_json, run_async
from pytavern.engine.services import ConnectionInput
from pytavern.engine.services.connections import api_type_infos, model_to_dict
from pytavern.errors import ConfigError


@click.group("connections")
@data_dir_option
def connections_group() -> None:
    """Manage connections to LLM backends."""


@connections_group.command("list")
@data_dir_option
@json_option
@run_async
async def list_command(as_json: bool) -> None:
    """List the connections."""
    async with open_services() as services:
        views = services.connections.all()
    if as_json:
        print_json([view.to_dict() for view in views])
        return
    for view in views:
        mark = "*" if view.is_default else " "
        key = (
            f"key …{view.key.last4}"
            if view.key.last4
            else ("key set" if view.key.is_set else "no key")
        )
        where = view.effective_url or "built-in"
        click.echo(f"{mark} {view.name:<16} {view.api:<11} {where}  {view.model or ''}  ({key})")
        if len(view.keys) > 1 or any(status.state != "ok" for status in view.keys):
            for status in view.keys:
                click.echo(f"      {status.summary}")
        if view.options.get("fallback"):
            click.echo(f"      falls back to: {', '.join(view.options['fallback'])}")


@connections_group.command("keys")
@click.argument("name")
@data_dir_option
@json_option
@run_async
async def keys_command(name: str, as_json: bool) -> None:
    """Show each key of a connection and whether it was refused (never a key itself)."""
    async with open_services() as services:
        statuses = services.connections.key_statuses(name)
    if as_json:
        print_json([status.to_dict() for status in statuses])
        return
    if not statuses:
        click.echo(f"{name}: no key")
    for status in statuses:
        click.echo(f"{status.summary}  ({status.source})")


def parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` pairs; VALUE is JSON when it parses, else a plain string."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option {pair!r} is not KEY=VALUE", hint="e.g. --option seed=42")
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw
    return options


def _read_keys(keys: tuple[str, ...]) -> list[str]:
    """One key from standard input per ``--key -`` (one a line, in order)."""
    return [key for key in (_read_key(flag) for flag in keys) if key]


def _read_key(key: str | None) -> str | None:
    if key is None:
        return None
    if key != "-":
        raise ConfigError(
            "--key takes '-' (read the key from standard input)",
            hint="Pipe the key in: `printenv MY_KEY | pytavern connections add NAME ... --key -`, "
            "so it never lands in your shell history",
        )
    value = sys.stdin.readline().strip()
    if not value:
        raise ConfigError("no key arrived on standard input", hint="Pipe the key into the command")
    return value


@connections_group.command("add")
@click.argument("name")
@click.option(
    "--api", "api", required=True, help="API type (`pytavern connections types` lists them)."
)
@click.option("--url", help="The backend's base URL.")
@click.option("--model", help="The model to use.")
@click.option(
    "--key",
    "keys",
    multiple=True,
    help="'-' reads an API key from standard input (repeat for more keys, one a line).",
)
@click.option(
    "--key-env",
    "key_envs",
    multiple=True,
    help="Read a key from this environment variable at each use (repeatable).",
)
@click.option(
    "--fallback",
    "fallbacks",
    multiple=True,
    help="A connection to try when this one fails before answering (repeatable, in order).",
)
@click.option("--option", "option_pairs", multiple=True, help="KEY=VALUE setting (JSON value).")
@click.option("--default", "make_default", is_flag=True, help="Make it the default connection.")
@data_dir_option
@json_option
@run_async
async def add_command(
    name: str,
    api: str,
    url: str | None,
    model: str | None,
    keys: tuple[str, ...],
    key_envs: tuple[str, ...],
    fallbacks: tuple[str, ...],
    option_pairs: tuple[str, ...],
    make_default: bool,
    as_json: bool,
) -> None:
    """Add a connection (or change an existing one).

    Several keys (``--key - --key -``, one a line on standard input, or ``--key-env A
    --key-env B``) are tried in order when one is refused or rate limited; ``--fallback``
    names connections to answer when this one fails before its first byte.
    """
    if keys and key_envs:
        raise ConfigError("give --key or --key-env, not both")
    spec = ConnectionInput(
        name=name,
        api=api,
        url=url,
        model=model,
        options=parse_options(option_pairs),
        keys=tuple(_read_keys(keys)),
        key_envs=key_envs,
        fallback=fallbacks,
        make_default=make_default,
    )
    async with open_services() as services:
        view = services.connections.add(spec)
    if as_json:
        print_json(view.to_dict())
    else:
        click.echo(f"saved connection {name!r} ({api})")


@connections_group.command("remove")
@click.argument("name")
@data_dir_option
@run_async
async def remove_command(name: str) -> None:
    """Remove a connection and its stored key."""
    async with open_services() as services:
        services.connections.remove(name)
    click.echo(f"removed connection {name!r}")


@connections_group.command("default")
@click.argument("name")
@data_dir_option
@run_async
async def default_command(name: str) -> None:
    """Make NAME the default connection."""
    async with open_services() as services:
        services.connections.set_default(name)
    click.echo(f"{name!r} is now the default connection")


@connections_group.command("test")
@click.argument("name")
@data_dir_option
@json_option
@run_async
async def test_command(name: str, as_json: bool) -> None:
    """Check that a connection works, and say what to do when it does not."""
    async with open_services() as services:
        check = await services.connections.test(name, missing_fails=True)
    status = check.status
    if as_json:
        print_json(check.to_dict())
    else:
        click.echo(f"{'ok' if status.ok else 'FAILED'}  {name}: {status.summary}")
        if status.hint:
            click.echo(f"    what to do: {status.hint}")
    if not status.ok:
        sys.exit(1)


@connections_group.command("models")
@click.argument("name")
@data_dir_option
@json_option
@run_async
async def models_command(name: str, as_json: bool) -> None:
    """List the models a connection offers."""
    async with open_services() as services:
        models = await services.connections.models(name)
    if as_json:
        print_json([model_to_dict(m) for m in models])
        return
    for model in models:
        extra = f"  ({model.context_length} tokens)" if model.context_length else ""
        click.echo(f"{model.id}{extra}")


@connections_group.command("types")
@json_option
def types_command(as_json: bool) -> None:
    """List the API types: name, label, group, default URL, key variable and options."""
    infos = api_type_infos()
    if as_json:
        print_json([info.to_dict() for info in infos])
        return
    for info in infos:
        where = info.default_url or ("built-in" if not info.needs_url else "give --url")
        click.echo(f"{info.name:<12} {info.group:<8} {info.label}  ({where})")
        if info.key_env:
            click.echo(f"    key: ${info.key_env}{'' if info.key_required else ' (optional)'}")
        own = [o.name for o in info.options if not o.common]
        if own:
            click.echo(f"    options: {', '.join(own)}")
