"""What an OpenAI-compatible service's errors should tell the user: its key page, its fixes.

``vendor_advice(...)`` builds the ``Flavour.refine_error`` hook of a flavour module: a
refused key names the page where the service issues keys and the command that stores one;
other statuses the service documents (DeepSeek's 402 "top up"...) get its own fix; a
service whose error body is not OpenAI-shaped gives its message through ``detail``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pytavern.errors import ProviderError
from pytavern.providers._openai_wire import ErrorHook

DetailReader = Callable[[Any], str | None]
"""Reads the human message from a service's own error body (``None`` when it has none)."""


def key_hint(api: str, service: str, key_page: str, key_env: str | None) -> str:
    """The fix for a refused or missing key: the service's key page and how to store a key."""
    env = f", or set {key_env} in the environment" if key_env else ""
    return (
        f"{service} refused the key: create or copy one at {key_page}, then store it with "
        f"`pytavern connections add NAME --api {api} --key -`{env}"
    )


def vendor_advice(
    api: str,
    service: str,
    key_page: str,
    key_env: str | None,
    *,
    notes: Mapping[int, str] | None = None,
    detail: DetailReader | None = None,
) -> ErrorHook:
    """The error hook of one service: key advice on 401/403, ``notes[status]`` otherwise."""
    by_status = dict(notes or {})

    def refine(error: ProviderError, status: int, body: Any) -> ProviderError:
        said = detail(body) if detail is not None else None
        if said and said not in error.message:
            error.message = f"{error.message}: {said}"
        if status in by_status:
            error.hint = by_status[status]
        elif status in (401, 403):
            error.hint = key_hint(api, service, key_page, key_env)
        return error

    return refine
