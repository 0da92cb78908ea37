"""Connections that keep working: key rotation, fallback chains and the usage ledger.

``RoutedStream.stream`` sends a turn's request in place of its provider's ``stream`` and,
while nothing has arrived yet, handles failure: a key the backend refused (401/403, quota)
is parked and the next key tried, a rate-limited one rests while the next is tried; a
connect error, a timeout to the first byte, a 5xx or a 429 (after the provider's own
retries) moves on to the next connection of the ``fallback`` option, with the prompt
rebuilt for that backend (its template, tokenizer and budget). Once any event has come, a
failure is the turn's failure (the partial reply is kept by the turn, as ever). Every
request sent, failed or not, is written to the usage ledger.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import traceback
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pytavern.engine.cache_marks import METADATA_KEY, cache_marks
from pytavern.engine.connections import ProviderPool, connection_config
from pytavern.engine.key_pool import (
    KeyCandidate,
    key_candidates,
    park_key,
    refusal_of,
    rest_seconds,
)
from pytavern.engine.prompting import count_and_rebuild, warm_tokenizer
from pytavern.engine.turn_loader import TurnData
from pytavern.engine.usage import load_prices, price_for
from pytavern.errors import (
    ConnectFailedError,
    ProviderError,
    PytavernError,
    RateLimitError,
    StreamProtocolError,
    UpstreamServerError,
    UpstreamTimeoutError,
)
from pytavern.events import Finished, StreamEvent, TextDelta, UsageEvent
from pytavern.providers.base import CacheKeeper, Provider
from pytavern.secrets import SecretStore
from pytavern.store import Store
from pytavern.store.usage import UsageRow
from pytavern.types import GenerationRequest, Usage

log = logging.getLogger(__name__)

ANSWERED_BY = "answered_by"
"""The key of ``Finished.extra`` naming the connection and model that answered."""


KEEP_WARM_OUTCOME = "keep-warm"
"""The usage ledger's outcome of a keep-warm ping that the backend answered."""
SHAPE_ERRORS = (AttributeError, IndexError, KeyError, TypeError, ValueError)
"""What a provider's parser raises on an answer of a shape it does not expect (a string
where an object was, a missing field): ``unreadable_answer`` makes it a protocol error."""


def unreadable_answer(connection: str, error: Exception) -> StreamProtocolError:
    """``error``, raised while a provider read ``connection``'s answer, as the protocol
    error the user is shown (the turn ends with it; what arrived is kept). The log gets its
    type and where it was raised, never its message (it may quote the answer)."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    log.warning("%s: %s reading the answer%s", connection, type(error).__name__, where)
    detail = f"{type(error).__name__}: {error}"
    return StreamProtocolError(
        f"pytavern could not read the answer ({detail[:200]})",
        provider=connection,
        hint="Check that the connection's URL and API type match the server; if they do, "
        "the server answered in a shape pytavern does not know (please report it). What "
        "arrived was kept",
    )


def falls_back(error: ProviderError) -> bool:
    """Whether a failure before the first byte sends the request to the next connection."""
    if isinstance(error, ConnectFailedError | UpstreamTimeoutError | RateLimitError):
        return True
    code = error.status_code
    return isinstance(error, UpstreamServerError) or (code is not None and code >= 500)


def fallback_names(turn: TurnData) -> list[str]:
    """The connections to try after the turn's own, in order (each once, never itself)."""
    chain = turn.record.options.get("fallback")
    names = [name for name in chain if isinstance(name, str)] if isinstance(chain, list) else []
    seen = {turn.record.name}
    ordered = []
    for name in names:
        if name not in seen:
            seen.add(name)
            ordered.append(name)
    return ordered


def answered_fields(finished: Finished | None) -> dict[str, Any]:
    """What a reply records about who answered (``connection`` and ``model``, the
    message's own fields), read from a routed stream's ``Finished``; empty otherwise."""
    answered = finished.extra.get(ANSWERED_BY) if finished is not None else None
    if not isinstance(answered, dict):
        return {}
    return {key: answered[key] for key in ("connection", "model") if key in answered}


def answer_details(finished: Finished | None) -> dict[str, Any]:
    """What the backend told about its answer besides the text, from the provider's
    ``Finished.extra`` (Perplexity's ``citations`` and ``search_results``, the Horde's
    ``worker``); the routing's own record of who answered is left out."""
    if finished is None:
        return {}
    return {key: value for key, value in finished.extra.items() if key != ANSWERED_BY}


def fallback_from(finished: Finished | None) -> list[str]:
    """The connections that failed before the one that answered, in order."""
    answered = finished.extra.get(ANSWERED_BY) if finished is not None else None
    tried = answered.get("fallback_from") if isinstance(answered, dict) else None
    return [str(name) for name in tried] if isinstance(tried, list) else []


@dataclass(frozen=True, slots=True)
class Route:
    """What a routed stream needs besides the provider: where to find connections, keys,
    prices and the ledger."""

    store: Store
    secrets: SecretStore
    pool: ProviderPool
    data_dir: Path | None = None


@dataclass
class _Attempt:
    """One request on its way: its timing and what it reported, for the ledger."""

    turn: TurnData
    provider: Provider
    request: GenerationRequest
    started: float = field(default_factory=time.monotonic)
    wall: float = field(default_factory=time.time)
    first_text: float | None = None
    usage: Usage = field(default_factory=Usage)
    model: str | None = None

    def see(self, event: StreamEvent) -> None:
        """Note what ``event`` tells about the request."""
        if isinstance(event, TextDelta) and self.first_text is None:
            self.first_text = time.monotonic()
        elif isinstance(event, UsageEvent):
            self.usage = _merged(self.usage, event.usage)
        elif isinstance(event, Finished):
            self.model = event.model or self.model


def _merged(old: Usage, new: Usage) -> Usage:
    values = {
        f.name: getattr(new, f.name) if getattr(new, f.name) is not None else getattr(old, f.name)
        for f in dataclasses.fields(Usage)
    }
    return Usage(**values)


class RoutedStream:
    """A turn's stream with key rotation, fallback and the usage ledger around its
    provider's (``run_turn(..., stream_with=RoutedStream(...).stream)``)."""

    def __init__(self, provider: Provider, turn: TurnData, route: Route) -> None:
        self._provider = provider
        self._turn = turn
        self._route = route
        self._answered: _Attempt | None = None
        """The request that answered the turn to its end (``stop``, ``length``)."""

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Stream from the first connection of the chain that answers (see the module)."""
        tried: list[str] = []
        turn, provider = self._turn, self._provider
        chain = fallback_names(turn)
        while True:
            try:
                opened = await self._open(turn, provider, request)
                break
            except ProviderError as error:
                if not chain or not falls_back(error):
                    raise
                log.warning(
                    "%s failed before answering (%s); trying the next of %s",
                    turn.record.name,
                    type(error).__name__,
                    ", ".join(chain),
                )
                tried.append(turn.record.name)
                following = await self._next(chain)
                if following is None:
                    raise  # no fallback could be set up: the failure that started it
            turn, provider, request, chain = following
        async with aclosing(self._relay(opened, tried)) as events:
            async for event in events:
                yield event

    async def _next(
        self, chain: list[str]
    ) -> tuple[TurnData, Provider, GenerationRequest, list[str]] | None:
        """The next connection of the chain with the prompt rebuilt for it; one that cannot
        be set up (removed, no key, no model...) is passed over, and ``None`` says that
        none could."""
        for index, name in enumerate(chain):
            try:
                turn, provider, request = await self._rebuild(name)
            except PytavernError as error:
                log.warning("fallback %s cannot be used: %s", name, error)
                continue
            return turn, provider, request, chain[index + 1 :]
        return None

    async def _rebuild(self, name: str) -> tuple[TurnData, Provider, GenerationRequest]:
        from pytavern.engine.generation import prepare_prompt  # the turn module imports us

        route = self._route
        record = route.store.get_connection(name)
        config = connection_config(record, route.secrets)
        provider = await route.pool.get_for(config)
        turn = dataclasses.replace(self._turn, record=record, config=config)
        ensure_loaded = getattr(provider, "ensure_loaded", None)
        if callable(ensure_loaded):
            await ensure_loaded()
        await warm_tokenizer(record)
        prepared = prepare_prompt(route.store, turn, provider)
        if prepared.counting.wants_counts():
            prepared = await count_and_rebuild(route.store, prepared)
        return turn, provider, prepared.request

    async def _open(
        self, turn: TurnData, provider: Provider, request: GenerationRequest
    ) -> tuple[_Attempt, StreamEvent | None, AsyncIterator[StreamEvent]]:
        """Send the request on ``turn``'s connection, rotating its keys; returns once the
        first event is in hand (``_relay`` passes it on before the rest)."""
        used: set[str] = set()
        while True:
            attempt = _Attempt(turn, provider, request)
            events = provider.stream(request)
            try:
                opened = attempt, await anext(events, None), events
            except ProviderError as error:
                await _close(events)
                self._record(attempt, "error", error)
                turn = await self._rotate(turn, error, used)
                provider = await self._route.pool.get_for(turn.config)
                continue
            except SHAPE_ERRORS as error:
                await _close(events)
                unreadable = unreadable_answer(turn.record.name, error)
                self._record(attempt, "error", unreadable)
                raise unreadable from error
            except BaseException:
                await _close(events)  # cancelled while waiting: the request is released
                raise
            self._remember_cache_marks(turn, request)
            return opened

    def _remember_cache_marks(self, turn: TurnData, request: GenerationRequest) -> None:
        """Keep where the answering request's cache breakpoints are, for the prompt view."""
        marks = cache_marks(turn.record.api, turn.record.name, turn.config.options, request)
        if marks is None and not turn.chat.metadata.get(METADATA_KEY):
            return
        try:
            self._route.store.merge_chat_metadata(turn.chat.id, {METADATA_KEY: marks})
        except Exception:  # the prompt view's extra must never break a turn
            log.exception("the prompt-cache breakpoints could not be kept")

    async def _rotate(self, turn: TurnData, error: ProviderError, used: set[str]) -> TurnData:
        """Park the key ``error`` refused and return the turn on the next key; raise
        ``error`` when another key would not help or none is left."""
        state = refusal_of(error)
        if state is None:
            raise error
        candidates = key_candidates(turn.record, self._route.secrets)
        current = next((c for c in candidates if c.key == turn.config.key), None)
        if current is None:
            raise error
        used.add(current.key)
        rest = rest_seconds(error)
        park_key(self._route.secrets, turn.record.name, current, state, error.message, rest=rest)
        following = _after(candidates, current, used)
        if following is None:
            raise error
        log.warning("%s: %s; trying its next key", turn.record.name, error.message)
        config = dataclasses.replace(turn.config, key=following.key)
        return dataclasses.replace(turn, config=config)

    async def _relay(
        self,
        opened: tuple[_Attempt, StreamEvent | None, AsyncIterator[StreamEvent]],
        tried: list[str],
    ) -> AsyncGenerator[StreamEvent]:
        attempt, event, events = opened
        outcome, problem = "cancelled", None
        try:
            while event is not None:
                attempt.see(event)
                if isinstance(event, Finished):
                    outcome = event.reason
                    event = _with_answer(event, attempt, tried)
                    if outcome in ("stop", "length"):
                        self._answered = attempt
                yield event
                event = await anext(events, None)
        except ProviderError as error:
            outcome, problem = "error", error
            raise
        except SHAPE_ERRORS as error:
            outcome, problem = "error", unreadable_answer(attempt.turn.record.name, error)
            raise problem from error
        finally:
            await _close(events)
            self._record(attempt, outcome, problem)

    def keep_warm(self) -> tuple[int, float, Callable[[], Awaitable[None]]] | None:
        """The keep-warm pings the connection that answered asks for once the turn is over
        (see ``pytavern.engine.keep_warm``): how many, how many seconds apart, and the ping,
        which the usage ledger records; ``None`` when the turn did not finish or its
        connection asks for none."""
        attempt = self._answered
        # getattr, not isinstance: a runtime Protocol check costs a turn ~7 us
        if attempt is None or getattr(attempt.provider, "keep_warm_plan", None) is None:
            return None
        keeper = cast(CacheKeeper, attempt.provider)
        plan = keeper.keep_warm_plan()
        if plan is None:
            return None

        async def ping() -> None:
            sent = _Attempt(attempt.turn, attempt.provider, attempt.request)
            try:
                sent.usage = await keeper.keep_warm(attempt.request)
            except ProviderError as error:
                self._record(sent, "error", error)
                raise
            else:
                self._record(sent, KEEP_WARM_OUTCOME, None)
            finally:
                self._route.store.flush_usage()

        return plan[0], plan[1], ping

    def _record(self, attempt: _Attempt, outcome: str, error: Exception | None) -> None:
        """Queue ``attempt`` for the usage ledger (a failure is logged, never raised); the
        turn's next write commits it, or ``Engine.generate`` when the turn ends."""
        turn = attempt.turn
        model = attempt.model or turn.config.model
        try:
            price = price_for(load_prices(self._route.data_dir), model)
            cost = price.cost(attempt.usage) if price and outcome != "error" else None
            now = time.monotonic()
            row = UsageRow(
                at=attempt.wall,
                chat_id=turn.chat.id,
                connection=turn.record.name,
                api=turn.record.api,
                model=model,
                input_tokens=attempt.usage.input_tokens,
                output_tokens=attempt.usage.output_tokens,
                cached_tokens=attempt.usage.cached_tokens,
                cache_write_tokens=attempt.usage.cache_write_tokens,
                reasoning_tokens=attempt.usage.reasoning_tokens,
                duration=round(now - attempt.started, 4),
                ttft=None
                if attempt.first_text is None
                else round(attempt.first_text - attempt.started, 4),
                outcome="ok" if outcome == "stop" else outcome,
                error=type(error).__name__ if error else None,
                cost=cost,
                owner_id=self._route.store.owner_id,
            )
            self._route.store.pending_usage.add(row)  # the reply's last write commits it
        except Exception:  # the ledger must never break a turn
            log.exception("the usage ledger could not record a request")


def _after(
    candidates: list[KeyCandidate], current: KeyCandidate, used: set[str]
) -> KeyCandidate | None:
    start = candidates.index(current)
    for candidate in candidates[start + 1 :] + candidates[:start]:
        if candidate.key not in used:
            return candidate
    return None


def _with_answer(event: Finished, attempt: _Attempt, tried: list[str]) -> Finished:
    answered: dict[str, Any] = {
        "connection": attempt.turn.record.name,
        "model": event.model or attempt.model or attempt.turn.config.model,
    }
    if tried:
        answered["fallback_from"] = list(tried)
    return dataclasses.replace(event, extra={**event.extra, ANSWERED_BY: answered})


async def _close(stream: AsyncIterator[StreamEvent]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
