"""``pytavern users``: accounts, and the first admin adopting single-user data and keys."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pytavern.cli import cli
from pytavern.engine import Engine
from pytavern.security.passwords import verify_password
from pytavern.settings import Settings


def invoke(data_dir: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def test_first_admin_adopts_existing_data(data_dir: Path) -> None:
    assert (
        invoke(
            data_dir,
            "connections",
            "add",
            "oa",
            "--api",
            "local",
            "--key",
            "-",
            input="key-123456789\n",
        )[0]
        == 0
    )
    code, out, err = invoke(
        data_dir, "users", "add", "ada", "--admin", "--password-stdin", input="correct horse\n"
    )
    assert code == 0, err
    assert "existing data" in out
    code, out, _ = invoke(
        data_dir, "users", "add", "bob", "--password-stdin", input="battery staple\n"
    )
    assert code == 0 and "existing data" not in out
    engine = Engine.open(Settings(data_dir=data_dir))
    ada = engine.store.find_user("ada")
    assert ada is not None and verify_password(ada.password_hash, "correct horse")
    mine = engine.for_user(ada.id)
    assert [c.name for c in mine.store.list_characters()] == ["Wren"]
    assert mine.secrets.get("oa") == "key-123456789"
    assert engine.secrets.get("oa") is None
    code, out, _ = invoke(data_dir, "users", "list", "--json")
    assert {r["name"]: r["admin"] for r in json.loads(out)} == {"ada": True, "bob": False}


def test_short_password_and_unknown_user(data_dir: Path) -> None:
    code, _out, err = invoke(data_dir, "users", "add", "x", "--password-stdin", input="short\n")
    assert code == 1 and "shorter than 8" in err
    code, _out, err = invoke(data_dir, "users", "disable", "ghost")
    assert code == 1 and "no user named 'ghost'" in err


def test_each_new_user_gets_the_defaults(data_dir: Path) -> None:
    engine = Engine.open(Settings(data_dir=data_dir))
    bob = engine.store.create_user("bob", "hash")
    view = engine.for_user(bob.id)
    assert [c.name for c in view.store.list_characters()] == ["Wren"]
    assert view.store.default_connection().name == "local"
    engine.for_user(bob.id)
    assert len(view.store.list_characters()) == 1
