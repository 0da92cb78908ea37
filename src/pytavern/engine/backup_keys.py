"""API keys inside a backup: sealed with a passphrase, never in the clear.

The key store's files (``secrets.json`` and the Fernet key that encrypts it) are sealed
together with Fernet under a key derived from the passphrase by scrypt, with a random salt.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from pytavern.errors import ConfigError, FormatError
from pytavern.secrets import KEY_ENV, KEY_FILE_ENV
from pytavern.settings import Settings

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_MAXMEM = 64 * 1024 * 1024
MIN_PASSPHRASE = 8


def _fernet(passphrase: str, salt: bytes, n: int, r: int, p: int) -> Fernet:
    key = hashlib.scrypt(
        passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(files: dict[str, bytes], passphrase: str) -> bytes:
    """Encrypt ``files`` (name to content) with ``passphrase``; returns JSON bytes."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise ConfigError(
            f"the backup passphrase is shorter than {MIN_PASSPHRASE} characters",
            hint="Choose a longer passphrase; it is the only protection of the keys in the file",
        )
    salt = os.urandom(16)
    plain = json.dumps({name: base64.b64encode(data).decode() for name, data in files.items()})
    token = _fernet(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P).encrypt(plain.encode())
    envelope = {
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": base64.b64encode(salt).decode(),
        "token": token.decode(),
    }
    return json.dumps(envelope).encode("utf-8")


def unseal(blob: bytes, passphrase: str) -> dict[str, bytes]:
    """Decrypt what ``seal`` made; a wrong passphrase raises ``ConfigError``."""
    try:
        envelope = json.loads(blob)
        salt = base64.b64decode(envelope["salt"])
        cipher = _fernet(
            passphrase, salt, int(envelope["n"]), int(envelope["r"]), int(envelope["p"])
        )
        token = str(envelope["token"]).encode()
    except (ValueError, KeyError, TypeError) as exc:
        raise FormatError(
            "the keys in the backup are damaged",
            hint="Restore without the keys or use another backup",
        ) from exc
    try:
        plain = json.loads(cipher.decrypt(token))
    except InvalidToken:
        raise ConfigError(
            "the passphrase does not open the keys in this backup",
            hint="Give the passphrase used when the backup was made",
        ) from None
    return {name: base64.b64decode(data) for name, data in plain.items()}


def key_store_files(settings: Settings) -> dict[str, bytes]:
    """The key store's files as they are now: ``secrets.json`` and ``secrets.key``.

    A key given by ``PYTAVERN_SECRETS_KEY`` lives outside the data folder and is not included.
    """
    files: dict[str, bytes] = {}
    if settings.secrets_path.exists():
        files["secrets.json"] = settings.secrets_path.read_bytes()
    key_file = _key_file(settings)
    if not os.environ.get(KEY_ENV) and key_file.exists():
        files["secrets.key"] = key_file.read_bytes()
    return files


def _key_file(settings: Settings) -> Path:
    return Path(os.environ.get(KEY_FILE_ENV) or settings.secrets_path.with_name("secrets.key"))


def restore_key_store(settings: Settings, files: dict[str, bytes]) -> list[str]:
    """Write the key store's files back (0600); returns the names written."""
    from pytavern.secrets import write_private

    targets = {"secrets.json": settings.secrets_path, "secrets.key": _key_file(settings)}
    written = []
    for name, data in files.items():
        if name in targets:
            write_private(targets[name], data)
            written.append(name)
    return written
