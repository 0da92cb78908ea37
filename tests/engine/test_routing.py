"""Which failures before the first byte send a turn to the next connection."""

from __future__ import annotations

from pytavern.engine.routing import answered_fields, fallback_from, falls_back
from pytavern.errors import (
    AuthError,
    BadRequestError,
    ConnectFailedError,
    RateLimitError,
    UpstreamNotFoundError,
    UpstreamServerError,
    UpstreamTimeoutError,
)
from pytavern.events import Finished


def test_outages_fall_back_and_mistakes_do_not() -> None:
    assert falls_back(ConnectFailedError("refused", provider="p"))
    assert falls_back(UpstreamTimeoutError("no first byte", provider="p"))
    assert falls_back(UpstreamServerError("boom", provider="p", status_code=502))
    assert falls_back(RateLimitError("slow down", provider="p"))
    assert not falls_back(AuthError("bad key", provider="p", status_code=401))
    assert not falls_back(BadRequestError("bad body", provider="p", status_code=400))
    assert not falls_back(UpstreamNotFoundError("no model", provider="p", status_code=404))


def test_what_a_reply_records_about_who_answered() -> None:
    answered = {"connection": "b", "model": "m", "fallback_from": ["a"]}
    finished = Finished("stop", extra={"answered_by": answered})
    assert answered_fields(finished) == {"connection": "b", "model": "m"}
    assert fallback_from(finished) == ["a"]
    assert answered_fields(Finished("stop")) == {} and fallback_from(None) == []
