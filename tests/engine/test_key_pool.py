"""Several keys per connection: order, parking, rotation state, and the key store's
additive slots (extra keys and parked state never show up as connections)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytavern.engine.key_pool import (
    key_candidates,
    key_statuses,
    park_key,
    refusal_of,
    rest_seconds,
    usable_key,
)
from pytavern.errors import AuthError, RateLimitError, UpstreamServerError
from pytavern.secrets import SecretStore
from pytavern.store import ConnectionRecord

KEYS = ["sk-first-000000000000aaaa", "sk-second-00000000000bbbb", "sk-third-000000000000cccc"]


def _record(**options: object) -> ConnectionRecord:
    return ConnectionRecord(
        id=1, name="c", api="openai", url=None, model=None, options=dict(options), is_default=True
    )


@pytest.fixture
def secrets(tmp_path: Path) -> SecretStore:
    store = SecretStore(tmp_path / "secrets.json")
    store.set_keys("c", KEYS)
    return store


def test_keys_are_stored_in_order_and_hidden_from_names(secrets: SecretStore) -> None:
    assert secrets.get_keys("c") == KEYS and secrets.get("c") == KEYS[0]
    park_key(secrets, "c", key_candidates(_record(), secrets)[0], "refused", "401")
    assert secrets.names() == ["c"]
    secrets.set_keys("c", KEYS[1:])
    assert secrets.get_keys("c") == KEYS[1:]
    secrets.delete("c")
    assert secrets.get_keys("c") == [] and secrets.parked("c") == {}


def test_refused_key_is_passed_over_and_shown_without_the_key(secrets: SecretStore) -> None:
    record = _record()
    first = key_candidates(record, secrets)[0]
    park_key(secrets, "c", first, "refused", "the key was refused (HTTP 401)")
    chosen = usable_key(record, secrets)
    assert chosen is not None and chosen.key == KEYS[1]
    statuses = key_statuses(record, secrets)
    assert [s.state for s in statuses] == ["refused", "ok", "ok"]
    assert statuses[0].summary.startswith("key ...aaaa: refused at ")
    assert all(key not in str(s.to_dict()) for s in statuses for key in KEYS)


def test_rate_limited_key_rests_then_is_used_again(
    secrets: SecretStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = _record()
    first = key_candidates(record, secrets)[0]
    park_key(secrets, "c", first, "resting", "rate limited")
    chosen = usable_key(record, secrets)
    assert chosen is not None and chosen.key == KEYS[1]
    import pytavern.engine.key_pool as pool

    later = pool.time.time() + pool.REST_SECONDS + 1
    monkeypatch.setattr(pool.time, "time", lambda: later)
    chosen = usable_key(record, secrets)
    assert chosen is not None and chosen.key == KEYS[0]


def test_every_key_parked_still_tries_one(secrets: SecretStore) -> None:
    record = _record()
    for candidate in key_candidates(record, secrets):
        park_key(secrets, "c", candidate, "refused", "401")
    chosen = usable_key(record, secrets)
    assert chosen is not None and chosen.key == KEYS[0]


def test_key_variables_follow_stored_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A_KEY", "sk-from-a-000000000000dddd")
    monkeypatch.setenv("B_KEY", "sk-from-b-000000000000eeee")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    store = SecretStore(tmp_path / "secrets.json")
    found = key_candidates(_record(key_env="A_KEY", key_envs=["B_KEY", "A_KEY"]), store)
    assert [c.source for c in found] == ["env:A_KEY", "env:B_KEY"]


def test_which_errors_another_key_may_fix() -> None:
    assert refusal_of(AuthError("refused", provider="p", status_code=401)) == "refused"
    assert refusal_of(RateLimitError("slow down", provider="p")) == "resting"
    quota = RateLimitError("You exceeded your current quota", provider="p")
    assert refusal_of(quota) == "refused"
    assert refusal_of(UpstreamServerError("boom", provider="p", status_code=500)) is None


def test_a_rate_limited_key_rests_as_long_as_the_backend_asks(
    secrets: SecretStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pytavern.engine.key_pool as pool

    asked = RateLimitError("slow down", provider="p", retry_after=5.0)
    assert rest_seconds(asked) == 5.0
    assert rest_seconds(RateLimitError("slow down", provider="p")) == pool.REST_SECONDS
    assert rest_seconds(RateLimitError("x", provider="p", retry_after=0.0)) == 1.0
    assert rest_seconds(RateLimitError("x", provider="p", retry_after=1e9)) == 86_400.0
    record = _record()
    first = key_candidates(record, secrets)[0]
    park_key(secrets, "c", first, "resting", "rate limited", rest=rest_seconds(asked))
    now = pool.time.time()
    monkeypatch.setattr(pool.time, "time", lambda: now + 4)
    chosen = usable_key(record, secrets)
    assert chosen is not None and chosen.key == KEYS[1]  # still resting at 4 s
    monkeypatch.setattr(pool.time, "time", lambda: now + 6)
    chosen = usable_key(record, secrets)
    assert chosen is not None and chosen.key == KEYS[0]  # back after the 5 s asked for
