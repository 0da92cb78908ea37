"""The key store: API keys kept apart from all other data, in a file only the owner reads.

Keys are stored per connection name. Nothing here ever returns a key to a face: faces get
``KeyInfo`` (whether one is set and its last four characters). Only the engine asks for the
real value, to hand it to a provider.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pytavern.errors import StoreError


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What may be shown about a stored key."""

    is_set: bool
    last4: str | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready mapping (never the key itself)."""
        return {"set": self.is_set, "last4": self.last4, "source": self.source}


def describe_key(key: str | None, source: str | None = None) -> KeyInfo:
    """Describe ``key`` without revealing it."""
    if not key:
        return KeyInfo(is_set=False)
    return KeyInfo(is_set=True, last4=key[-4:] if len(key) >= 8 else None, source=source)


class SecretStore:
    """API keys by connection name, in a 0600 JSON file written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, name: str) -> str | None:
        """The key stored for connection ``name``, if any."""
        return self._read().get(name)

    def set(self, name: str, key: str) -> None:
        """Store ``key`` for connection ``name``."""
        data = self._read()
        data[name] = key.strip()
        self._write(data)

    def delete(self, name: str) -> None:
        """Forget the key of connection ``name``."""
        data = self._read()
        if data.pop(name, None) is not None:
            self._write(data)

    def _read(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise StoreError(
                f"the key store {self.path} is damaged",
                hint="Move it aside and add the keys again with `pytavern connections add`",
            ) from exc
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write(self, data: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".secrets-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
