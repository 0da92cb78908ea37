"""Several keys per connection: which one to use, and parking the ones a backend refused.

A connection's keys are its stored keys (in order), then the variables named by its
``key_env`` / ``key_envs`` options, then its API type's usual variable. A key the backend
refused (401/403, or a used-up quota) is *parked* until it is stored again; a key that was
rate limited *rests* for a while. Parked state is kept in the key store by fingerprint, so
no key is ever written anywhere else, and what is shown of a key is its last four
characters ("key ...abcd: refused at 14:02").
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pytavern.errors import AuthError, ProviderError, RateLimitError
from pytavern.providers import get_spec
from pytavern.secrets import SecretStore, key_fingerprint
from pytavern.store import ConnectionRecord

REST_SECONDS = 60.0
"""How long a rate-limited key rests when the backend does not say (Retry-After)."""
REST_BOUNDS = (1.0, 86_400.0)
"""The shortest and longest rest a backend's Retry-After can ask for (a day: a quota that
resets daily); a value outside is taken as the nearest bound."""

KeyState = Literal["ok", "refused", "resting"]


@dataclass(frozen=True, slots=True)
class KeyCandidate:
    """One key a connection may use, and where it comes from."""

    key: str
    source: str

    @property
    def fingerprint(self) -> str:
        """The key's fingerprint (what parked state is kept under)."""
        return key_fingerprint(self.key)

    @property
    def last4(self) -> str | None:
        """The last four characters, for keys long enough to show them safely."""
        return self.key[-4:] if len(self.key) >= 8 else None


@dataclass(frozen=True, slots=True)
class KeyStatus:
    """What may be shown about one of a connection's keys."""

    last4: str | None
    source: str
    state: KeyState
    since: float | None = None
    reason: str | None = None

    @property
    def summary(self) -> str:
        """``key ...abcd: refused at 14:02`` (never the key itself)."""
        label = f"key ...{self.last4}" if self.last4 else "key"
        if self.state == "ok" or self.since is None:
            return f"{label}: usable"
        at = datetime.fromtimestamp(self.since, tz=UTC).astimezone().strftime("%H:%M")
        word = "refused" if self.state == "refused" else "rate limited"
        return f"{label}: {word} at {at}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (never the key)."""
        return {
            "last4": self.last4,
            "source": self.source,
            "state": self.state,
            "since": self.since,
            "reason": self.reason,
            "summary": self.summary,
        }


def key_candidates(record: ConnectionRecord, secrets: SecretStore) -> list[KeyCandidate]:
    """Every key the connection may use, in the order they are tried (no duplicates)."""
    found = [
        KeyCandidate(key, "stored" if index == 0 else f"stored:{index + 1}")
        for index, key in enumerate(secrets.get_keys(record.name))
    ]
    for variable in _variables(record):
        value = os.environ.get(variable)
        if value:
            found.append(KeyCandidate(value, f"env:{variable}"))
    seen: set[str] = set()
    unique: list[KeyCandidate] = []
    for candidate in found:
        if candidate.key not in seen:
            seen.add(candidate.key)
            unique.append(candidate)
    return unique


def _variables(record: ConnectionRecord) -> list[str]:
    named = [record.options.get("key_env")]
    more = record.options.get("key_envs")
    if isinstance(more, list):
        named += more
    named.append(get_spec(record.api).key_env)
    return [name for name in named if isinstance(name, str) and name]


def _state(entry: dict[str, object] | None, now: float) -> KeyState:
    if entry is None:
        return "ok"
    if entry.get("state") == "refused":
        return "refused"
    until = entry.get("until")
    return "resting" if isinstance(until, int | float) and until > now else "ok"


def usable_key(record: ConnectionRecord, secrets: SecretStore) -> KeyCandidate | None:
    """The key to use now: the first one neither refused nor resting; when every key is
    parked, the first resting one, else the first one (the backend then says why)."""
    candidates = key_candidates(record, secrets)
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    parked = secrets.parked(record.name)
    now = time.time()
    states = [_state(parked.get(c.fingerprint), now) for c in candidates]
    for wanted in ("ok", "resting"):
        for candidate, state in zip(candidates, states, strict=True):
            if state == wanted:
                return candidate
    return candidates[0]


def key_statuses(record: ConnectionRecord, secrets: SecretStore) -> list[KeyStatus]:
    """What may be shown about each of the connection's keys."""
    parked = secrets.parked(record.name)
    now = time.time()
    statuses = []
    for candidate in key_candidates(record, secrets):
        entry = parked.get(candidate.fingerprint)
        state = _state(entry, now)
        since = entry.get("since") if entry and state != "ok" else None
        reason = entry.get("reason") if entry and state != "ok" else None
        statuses.append(
            KeyStatus(
                last4=candidate.last4,
                source=candidate.source,
                state=state,
                since=float(since) if isinstance(since, int | float) else None,
                reason=str(reason) if reason else None,
            )
        )
    return statuses


def refusal_of(error: ProviderError) -> KeyState | None:
    """How ``error`` bears on the key: ``refused`` (401/403, quota used up), ``resting``
    (rate limited), or ``None`` when another key would not help."""
    if isinstance(error, AuthError) or error.status_code in (401, 402, 403):
        return "refused"
    text = error.message.lower()
    if "quota" in text or "insufficient_quota" in text or "billing" in text:
        return "refused"
    if isinstance(error, RateLimitError) or error.status_code == 429:
        return "resting"
    return None


def rest_seconds(error: ProviderError) -> float:
    """How long a key ``error`` rate limited rests: the backend's Retry-After (within
    ``REST_BOUNDS``), or ``REST_SECONDS`` when it gave none."""
    asked = error.retry_after if isinstance(error, RateLimitError) else None
    if asked is None:
        return REST_SECONDS
    low, high = REST_BOUNDS
    return min(max(float(asked), low), high)


def park_key(
    secrets: SecretStore,
    name: str,
    candidate: KeyCandidate,
    state: KeyState,
    reason: str,
    *,
    rest: float = REST_SECONDS,
) -> None:
    """Park ``candidate`` of connection ``name`` (refused until stored again, or resting
    for ``rest`` seconds)."""
    if state == "ok":
        return
    parked = secrets.parked(name)
    now = time.time()
    entry: dict[str, object] = {"state": state, "since": now, "reason": reason[:200]}
    if state == "resting":
        entry["until"] = now + rest
    parked[candidate.fingerprint] = entry
    secrets.set_parked(name, parked)


def clear_parked(secrets: SecretStore, name: str) -> None:
    """Forget every parked key of connection ``name`` (its keys were stored anew)."""
    secrets.set_parked(name, {})
