"""CSRF tokens bound to a session: HMAC(secret, session id), compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(secret: bytes, session_id: str) -> str:
    """The CSRF token of a session."""
    return hmac.new(secret, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, session_id: str, token: str | None) -> bool:
    """True when ``token`` is the CSRF token of ``session_id``."""
    return bool(token) and hmac.compare_digest(csrf_token(secret, session_id), token or "")
