"""The key store: API keys kept apart from all other data, encrypted at rest.

Keys are stored per connection name in ``secrets.json``, each encrypted with Fernet
(AES-128-CBC + HMAC-SHA256). The encryption key comes from ``PYTAVERN_SECRETS_KEY`` (a Fernet
key), else from the file named by ``PYTAVERN_SECRETS_KEY_FILE``, else from ``secrets.key``
in the data directory, created on first use and readable by its owner only. Both files are
written atomically with mode 0600.

Nothing here ever returns a key to a face: faces get ``KeyInfo`` (whether one is set and its
last four characters). Only the engine asks for the real value, to hand it to a provider.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from pytavern.errors import ConfigError, StoreError

KEY_ENV = "PYTAVERN_SECRETS_KEY"
KEY_FILE_ENV = "PYTAVERN_SECRETS_KEY_FILE"
EXTRA_SLOT = "#key"
"""Slot suffix of a connection's second, third... key (``name#key2``)."""
PARKED_SLOT = "#parked"
"""Slot suffix of a connection's parked keys (by fingerprint, encrypted JSON)."""


def key_fingerprint(key: str) -> str:
    """A short, stable name for ``key`` that does not reveal it (a SHA-256 prefix)."""
    return hashlib.sha256(key.strip().encode()).hexdigest()[:16]


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
    """Describe ``key`` without revealing it (the last four only for keys of 8+ characters)."""
    if not key:
        return KeyInfo(is_set=False)
    return KeyInfo(is_set=True, last4=key[-4:] if len(key) >= 8 else None, source=source)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable and writable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        _Writes.count += 1  # the key files this process reads are looked at again


def load_cipher(default_key_file: Path) -> Fernet:
    """The Fernet cipher for the key store, creating the key file on first use."""
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        return _cipher(from_env.encode(), KEY_ENV)
    key_file = Path(os.environ.get(KEY_FILE_ENV) or default_key_file)
    if not key_file.exists():
        write_private(key_file, Fernet.generate_key())
    return _cipher(key_file.read_bytes().strip(), str(key_file))


def _cipher(key: bytes, where: str) -> Fernet:
    try:
        return Fernet(key)
    except ValueError:
        raise ConfigError(
            f"the key-store encryption key in {where} is not a valid Fernet key",
            hint="Generate one with `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`",
        ) from None


RECHECK_SECONDS = 1.0
"""How long the key file's parsed contents are used without looking at the file again: a
key changed by another process is seen within this time, one changed by this process at
once (every write here is counted, and a count unseen by a cache makes it look again)."""


class _Writes:
    """How many times this process has written a key file."""

    count = 0


class _ReadCache:
    """The key file's parsed contents and decrypted keys, kept while the file is unchanged.

    Every generation resolves its key; re-reading and decrypting the file each time cost a
    third of a millisecond, and even asking the file system whether it changed costs a
    stream tens of microseconds on some machines. The file's identity (inode, size,
    modification time) is checked when ``RECHECK_SECONDS`` have passed since the last check
    or this process has written a key file since.
    """

    def __init__(self) -> None:
        self.signature: tuple[int, int, int] | None = None
        self.keys: dict[str, str] = {}
        self.plain: dict[str, str] = {}
        self._checked_at = -RECHECK_SECONDS
        self._writes_seen = -1

    def recent(self, now: float) -> dict[str, str] | None:
        """The cached keys if the file was checked lately and no write of ours followed."""
        fresh = now - self._checked_at < RECHECK_SECONDS and self._writes_seen == _Writes.count
        return self.keys if fresh and self.signature is not None else None

    def lookup(self, signature: tuple[int, int, int] | None, now: float) -> dict[str, str] | None:
        """The cached keys if they were read from the file as it is now, else ``None``."""
        if signature is None or signature != self.signature:
            return None
        self._checked_at, self._writes_seen = now, _Writes.count
        return self.keys

    def remember(
        self, signature: tuple[int, int, int] | None, keys: dict[str, str], now: float
    ) -> None:
        """Keep ``keys``, read from the file whose signature was taken before reading."""
        self.signature, self.keys, self.plain = signature, keys, {}
        self._checked_at, self._writes_seen = now, _Writes.count


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class SecretStore:
    """API keys by connection name, encrypted, in a 0600 JSON file written atomically."""

    def __init__(self, path: Path, key_file: Path | None = None, owner_id: int = 0) -> None:
        self.path = path
        self.owner_id = owner_id
        self._key_file = key_file or path.with_name("secrets.key")
        self._cipher: Fernet | None = None
        self._cache = _ReadCache()

    def for_owner(self, owner_id: int) -> SecretStore:
        """The keys of another owner (each user's keys are invisible to the others)."""
        view = SecretStore(self.path, self._key_file, owner_id)
        view._cipher = self._cipher
        view._cache = self._cache
        return view

    def _slot(self, name: str) -> str:
        return name if self.owner_id == 0 else f"user:{self.owner_id}:{name}"

    def get(self, name: str) -> str | None:
        """The key stored for connection ``name``, if any."""
        token = self._read().get(self._slot(name))
        if token is None:
            return None
        plain = self._cache.plain.get(token)
        if plain is not None:
            return plain
        try:
            plain = self._fernet().decrypt(token.encode()).decode()
        except InvalidToken:
            raise StoreError(
                f"the stored key of {name!r} cannot be decrypted",
                hint="The key-store encryption key changed; add the key again with "
                f"`pytavern connections add {name} --api TYPE --key -`",
            ) from None
        self._cache.plain[token] = plain
        return plain

    def set(self, name: str, key: str) -> None:
        """Store ``key`` for connection ``name``."""
        data = self._read()
        data[self._slot(name)] = self._fernet().encrypt(key.strip().encode()).decode()
        self._write(data)

    def delete(self, name: str) -> None:
        """Forget the keys of connection ``name`` (all of them, and their parked state)."""
        data = self._read()
        slot = self._slot(name)
        doomed = [s for s in data if s == slot or s.startswith(f"{slot}#")]
        for gone in doomed:
            del data[gone]
        if doomed:
            self._write(data)

    def get_keys(self, name: str) -> list[str]:
        """Every key stored for connection ``name``, in the order they are tried."""
        first = self.get(name)
        if first is None:
            return []
        keys = [first]
        index = 2
        while (more := self.get(f"{name}{EXTRA_SLOT}{index}")) is not None:
            keys.append(more)
            index += 1
        return keys

    def set_keys(self, name: str, keys: list[str]) -> None:
        """Store ``keys`` for connection ``name`` (tried in order), replacing its keys."""
        cleaned = [key.strip() for key in keys if key.strip()]
        data = self._read()
        slot = self._slot(name)
        for gone in [s for s in data if s == slot or s.startswith(f"{slot}{EXTRA_SLOT}")]:
            del data[gone]
        for index, key in enumerate(cleaned, start=1):
            where = slot if index == 1 else f"{slot}{EXTRA_SLOT}{index}"
            data[where] = self._fernet().encrypt(key.encode()).decode()
        self._write(data)

    def parked(self, name: str) -> dict[str, dict[str, object]]:
        """The parked keys of connection ``name`` by fingerprint (why, since when, until)."""
        raw = self.get(f"{name}{PARKED_SLOT}")
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            return {}
        return {str(k): dict(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def set_parked(self, name: str, parked: dict[str, dict[str, object]]) -> None:
        """Replace the parked-key state of connection ``name`` (empty: none parked)."""
        if not parked:
            data = self._read()
            if data.pop(self._slot(f"{name}{PARKED_SLOT}"), None) is not None:
                self._write(data)
            return
        self.set(f"{name}{PARKED_SLOT}", json.dumps(parked, sort_keys=True))

    def names(self) -> list[str]:
        """Connection names of this owner that have a stored key."""
        prefix = self._slot("")
        return sorted(
            slot.removeprefix(prefix)
            for slot in self._read()
            if slot.startswith(prefix)
            and (prefix or not slot.startswith("user:"))
            and "#" not in slot.removeprefix(prefix)
        )

    def _fernet(self) -> Fernet:
        if self._cipher is None:
            self._cipher = load_cipher(self._key_file)
        return self._cipher

    def _read(self) -> dict[str, str]:
        now = time.monotonic()
        cached = self._cache.recent(now)
        if cached is not None:
            return dict(cached)
        signature = _signature(self.path)
        cached = self._cache.lookup(signature, now)
        if cached is not None:
            return dict(cached)
        keys = self._read_file()
        self._cache.remember(signature, keys, now)
        return dict(keys)

    def _read_file(self) -> dict[str, str]:
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
        keys = data.get("keys", {}) if isinstance(data, dict) else {}
        return {str(k): str(v) for k, v in keys.items()}

    def _write(self, data: dict[str, str]) -> None:
        payload = {"format": "pytavern-secrets", "version": 1, "keys": data}
        write_private(self.path, json.dumps(payload, indent=1).encode())
