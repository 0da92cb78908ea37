"""What an HTTP backend is set up with: timeouts, retry policy, base URL, proxy, JSON body.

Pure helpers for ``_http.HttpBackend``, read from a connection's options and environment.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from pytavern.errors import ProviderError

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 520, 522, 524, 529})
ErrorRefiner = Callable[[ProviderError, int, Any], ProviderError]


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long to wait, in seconds, for each phase of a request."""

    connect: float = 10.0
    first_byte: float = 300.0
    gap: float = 120.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry before the first byte of a reply."""

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 20.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Return the wait before retry number ``attempt`` (0-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        backoff = self.base_delay * (2**attempt)
        return float(min(backoff * (0.75 + random.random() / 2), self.max_delay))


def timeouts_from_options(options: Mapping[str, Any]) -> Timeouts:
    """Read ``timeout_connect``, ``timeout_first_byte`` and ``timeout_gap`` from options."""
    default = Timeouts()
    return Timeouts(
        connect=float(options.get("timeout_connect", default.connect)),
        first_byte=float(options.get("timeout_first_byte", default.first_byte)),
        gap=float(options.get("timeout_gap", default.gap)),
    )


def retry_from_options(options: Mapping[str, Any]) -> RetryPolicy:
    """Read ``max_retries`` and ``retry_max_delay`` from options."""
    default = RetryPolicy()
    return RetryPolicy(
        max_retries=int(options.get("max_retries", default.max_retries)),
        base_delay=float(options.get("retry_base_delay", default.base_delay)),
        max_delay=float(options.get("retry_max_delay", default.max_delay)),
    )


def normalize_base_url(url: str, *, strip_suffixes: tuple[str, ...] = ()) -> str:
    """Trim spaces and trailing slashes and any of ``strip_suffixes`` from ``url``.

    ``localhost`` is rewritten to 127.0.0.1 (as SillyTavern does), which avoids slow IPv6
    fallbacks on some systems.
    """
    base = url.strip().rstrip("/")
    changed = True
    while changed:
        changed = False
        for suffix in strip_suffixes:
            if base.endswith(suffix):
                base = base[: -len(suffix)].rstrip("/")
                changed = True
    return base.replace("://localhost", "://127.0.0.1")


def env_proxy(url: str, proxies: Mapping[str, str]) -> str | None:
    """The proxy ``proxies`` (read from the environment) name for ``url``, or ``None``.

    ``HTTP_PROXY``/``HTTPS_PROXY`` by scheme, else ``ALL_PROXY``; a host listed in
    ``NO_PROXY`` goes direct (the rules httpx's ``trust_env`` followed).
    """
    if not proxies:
        return None
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy:
        return None
    host = parts.hostname or ""
    from urllib.request import (  # type: ignore[attr-defined]  # ssl, http: only when used
        proxy_bypass_environment,
    )

    if host and proxy_bypass_environment(host, proxies):
        return None
    return proxy


def encode_json(body: Any) -> bytes:
    """``body`` as compact UTF-8 JSON (NaN and infinities refused, as JSON has none).

    orjson writes the same bytes as ``json`` does here at a tenth of the cost; values it
    does not take (integers past 64 bits, keys that are not strings) go through ``json``.
    """
    try:
        encoded = orjson.dumps(body)
    except TypeError:
        return _encode_slowly(body)
    if b"null" in encoded and _has_non_finite(body):
        raise ValueError("Out of range float values are not JSON compliant")
    return encoded


def _encode_slowly(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _has_non_finite(value: Any) -> bool:
    """Whether a NaN or an infinity hides in ``value`` (orjson writes them as null)."""
    if isinstance(value, float):
        return value != value or value in (float("inf"), float("-inf"))
    if isinstance(value, dict):
        return any(_has_non_finite(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite(item) for item in value)
    return False
