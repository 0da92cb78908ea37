"""The encrypted key store."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from pytavern.errors import ConfigError, StoreError
from pytavern.secrets import SecretStore, describe_key

KEY = "sk-ant-0123456789abcdefSECRET"


def test_round_trip_encrypted_and_private(tmp_path: Path) -> None:
    store = SecretStore(tmp_path / "secrets.json")
    store.set("claude", KEY)
    assert store.get("claude") == KEY
    assert KEY.encode() not in (tmp_path / "secrets.json").read_bytes()
    assert store.names() == ["claude"]
    store.delete("claude")
    assert store.get("claude") is None


def test_key_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTAVERN_SECRETS_KEY", Fernet.generate_key().decode())
    SecretStore(tmp_path / "secrets.json").set("a", KEY)
    assert not (tmp_path / "secrets.key").exists()
    assert SecretStore(tmp_path / "secrets.json").get("a") == KEY
    monkeypatch.setenv("PYTAVERN_SECRETS_KEY", Fernet.generate_key().decode())
    with pytest.raises(StoreError, match="cannot be decrypted"):
        SecretStore(tmp_path / "secrets.json").get("a")
    monkeypatch.setenv("PYTAVERN_SECRETS_KEY", "not-a-key")
    with pytest.raises(ConfigError, match="not a valid Fernet key"):
        SecretStore(tmp_path / "secrets.json").set("b", KEY)


def test_damaged_store_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text("{broken")
    with pytest.raises(StoreError, match="damaged"):
        SecretStore(tmp_path / "secrets.json").get("x")


def test_describe_key_shows_only_last_four() -> None:
    assert describe_key(KEY).to_dict() == {"set": True, "last4": "CRET", "source": None}
    assert describe_key("short").last4 is None
    assert describe_key(None).is_set is False


def test_owners_have_separate_keys(tmp_path: Path) -> None:
    single = SecretStore(tmp_path / "secrets.json")
    alice, bob = single.for_owner(1), single.for_owner(2)
    single.set("oa", "single-user-key-0000")
    alice.set("oa", "alice-key-1111111")
    assert bob.get("oa") is None
    assert alice.get("oa") == "alice-key-1111111"
    assert single.get("oa") == "single-user-key-0000"
    assert single.names() == ["oa"] and alice.names() == ["oa"] and bob.names() == []
    alice.delete("oa")
    assert single.get("oa") == "single-user-key-0000"


def test_the_key_file_is_looked_at_again_only_after_a_while_or_a_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn reads the cached keys without asking the file system; a write by any store of
    this process is seen at once, a change by another process after ``RECHECK_SECONDS``."""
    import pytavern.secrets as secrets_module

    path = tmp_path / "secrets.json"
    server, cli = SecretStore(path), SecretStore(path)
    server.set("a", "first-key-0000")
    checks: list[Path] = []
    signature = secrets_module._signature

    def counted(checked: Path) -> tuple[int, int, int] | None:
        checks.append(checked)
        return signature(checked)

    monkeypatch.setattr(secrets_module, "_signature", counted)
    assert server.get("a") == "first-key-0000"
    assert server.get("a") == "first-key-0000" and len(checks) == 1
    cli.set("a", "second-key-0000")  # another store of this process: seen at once
    assert server.get("a") == "second-key-0000"
    elsewhere = tmp_path / "elsewhere.json"
    SecretStore(elsewhere).set("a", "third-key-0000")  # what another process will write
    clock = [secrets_module.time.monotonic()]
    monkeypatch.setattr(secrets_module.time, "monotonic", lambda: clock[0])
    assert server.get("a") == "second-key-0000"
    path.write_bytes(elsewhere.read_bytes())  # not through this process's writes
    assert server.get("a") == "second-key-0000"  # not looked at yet...
    clock[0] += secrets_module.RECHECK_SECONDS
    assert server.get("a") == "third-key-0000"  # ...until the recheck
