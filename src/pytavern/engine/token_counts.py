"""Exact counts from a backend's own tokenizer, for a prompt builder that stays synchronous.

For a backend whose tokenizer sits behind an endpoint (KoboldCpp, llama.cpp, ooba, Tabby,
vLLM, NovelAI, Claude, Gemini), the engine keeps per provider (so per connection and model)
a bounded cache of exact counts. A build counts from it and estimates the rest, noting them
(``RecordingTokenizer``); ``RemoteCounts.fill`` then counts those texts through
``Provider.count_tokens``, concurrently and within a deadline, so the prompt can be built
again with exact counts. History repeats from turn to turn, so after the first turn only
new messages are asked for.

A backend that answers ``None`` (or 404: no such endpoint) cannot count: it is not asked
again. ``Counting`` says which tokenizer a build used, for the prompt view and for learning
the estimate (``token_ratio``). A failure or a timeout
keeps the estimates, is logged once, and the backend is not asked again for a while.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from pytavern.errors import PytavernError, UpstreamNotFoundError
from pytavern.prompt.tokens import CountCache, RecordingTokenizer, Tokenizer
from pytavern.providers.base import Provider

log = logging.getLogger(__name__)

COUNT_TIMEOUT = 1.5
"""Seconds a turn may wait, in all, for a backend to count the texts it did not hold."""
CONCURRENCY = 8
"""Count requests in flight at once, per turn."""
RETRY_AFTER_FAILURE = 60.0
"""Seconds to estimate only, after a backend failed or was too slow to count."""
CACHE_ENTRIES = 8192
"""Exact counts kept per connection and model (least recently used go first)."""


class RemoteCounts:
    """One provider's cache of exact counts, and whether asking it is worthwhile now."""

    def __init__(self, max_entries: int = CACHE_ENTRIES) -> None:
        self.cache = CountCache(max_entries)
        self.supported = True
        """False once the provider said it cannot count."""
        self.retry_at = 0.0
        """``time.monotonic()`` before which the provider is not asked (after a failure)."""
        self.failing = False
        """A failure was logged and no count has worked since."""

    def ready(self) -> bool:
        """Whether to ask the provider now."""
        return self.supported and time.monotonic() >= self.retry_at

    async def fill(self, provider: Provider, texts: Sequence[str], timeout: float) -> bool:
        """Count ``texts`` through ``provider`` into the cache; True when all were counted.

        Counts that arrived before a failure or the timeout are kept for the next turn; a
        timeout after some counts arrived (a long chat's first turn) is no failure, so the
        next turn goes on counting.
        """
        counts: dict[str, int | None] = {}
        try:
            async with asyncio.timeout(timeout):
                await _count_all(provider, texts, counts)
        except TimeoutError:
            self._keep(counts)
            if not any(value is not None for value in counts.values()):
                self._failed(provider, f"it did not answer within {timeout:.1f} s")
            return False
        except UpstreamNotFoundError:
            self._cannot_count(provider)  # no such endpoint (KoboldAI United), or model
            return False
        except PytavernError as error:
            self._keep(counts)
            self._failed(provider, error.message)
            return False
        if any(value is None for value in counts.values()):
            self._cannot_count(provider)
            return False
        self._keep(counts)
        self.failing = False
        return True

    def _keep(self, counts: dict[str, int | None]) -> None:
        for text, value in counts.items():
            if value is not None:
                self.cache.put(text, value)

    def _cannot_count(self, provider: Provider) -> None:
        self.supported = False
        log.info("%s cannot count tokens; its prompts are estimated", provider.name)

    def _failed(self, provider: Provider, why: str) -> None:
        self.retry_at = time.monotonic() + RETRY_AFTER_FAILURE
        if not self.failing:
            self.failing = True
            log.warning(
                "counting tokens with %s failed (%s); estimating for the next %d s",
                provider.name,
                why,
                int(RETRY_AFTER_FAILURE),
            )


async def _count_all(
    provider: Provider, texts: Sequence[str], counts: dict[str, int | None]
) -> None:
    """Count every text (at most ``CONCURRENCY`` at once); the first error cancels the rest
    and is raised as itself (an error that is not a ``PytavernError`` is a bug: raised as is)."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(text: str) -> None:
        async with limit:
            counts[text] = await provider.count_tokens(text)

    try:
        async with asyncio.TaskGroup() as group:
            for text in texts:
                group.create_task(one(text))
    except ExceptionGroup as errors:
        ours, others = errors.split(PytavernError)
        if others is not None or ours is None:
            raise
        raise _first(ours) from None


def _first(group: BaseExceptionGroup[PytavernError]) -> PytavernError:
    error = group.exceptions[0]
    return _first(error) if isinstance(error, BaseExceptionGroup) else error


_BY_PROVIDER: weakref.WeakKeyDictionary[Provider, RemoteCounts] = weakref.WeakKeyDictionary()


def remote_counts(provider: Provider) -> RemoteCounts:
    """The counts kept for ``provider`` (a provider serves one connection and model, and
    a new one is made when either changes, so its cache starts empty)."""
    counts = _BY_PROVIDER.get(provider)
    if counts is None:
        counts = _BY_PROVIDER[provider] = RemoteCounts()
    return counts


TokenizerKind = Literal["local model", "openai-bpe", "backend", "estimate"]


@dataclass(frozen=True, slots=True)
class Counting:
    """The tokenizer of one build: what it is, the estimate's ratio, the backend's cache."""

    tokenizer: Tokenizer
    kind: TokenizerKind
    chars_per_token: float | None = None
    """The ratio estimates use (``estimate`` and ``backend`` kinds)."""
    remote: RemoteCounts | None = None
    """The backend's cached counts (``backend`` kind)."""

    def missed(self) -> list[str]:
        """The texts this build estimated that the backend could count."""
        tokenizer = self.tokenizer
        return list(tokenizer.missed) if isinstance(tokenizer, RecordingTokenizer) else []

    def wants_counts(self) -> bool:
        """Whether to ask the backend for counts and build again (no I/O to decide)."""
        return self.remote is not None and self.remote.ready() and bool(self.missed())

    def fresh(self) -> Counting:
        """The same counting with a new record of misses (for the next build)."""
        tokenizer = self.tokenizer
        if isinstance(tokenizer, RecordingTokenizer):
            tokenizer = RecordingTokenizer(tokenizer.cache, tokenizer.fallback)
        return replace(self, tokenizer=tokenizer)

    def estimated_only(self) -> bool:
        """True when every count of the build was an estimate (so usage can teach it)."""
        tokenizer = self.tokenizer
        if isinstance(tokenizer, RecordingTokenizer):
            return tokenizer.exact == 0 and tokenizer.estimated > 0
        return self.kind == "estimate"

    def describe(self) -> dict[str, Any]:
        """``tokenizer`` (what counted) and, when estimates were used, ``chars_per_token``."""
        tokenizer = self.tokenizer
        ratio = self.chars_per_token or 0.0
        if self.kind in ("local model", "openai-bpe"):
            return {"tokenizer": self.kind}
        cannot_count = self.remote is not None and not self.remote.supported
        if isinstance(tokenizer, RecordingTokenizer) and not cannot_count:
            if not tokenizer.estimated:
                return {"tokenizer": "backend"}
            total = tokenizer.exact + tokenizer.estimated
            label = f"backend ({tokenizer.estimated} of {total} counts estimated"
            return {"tokenizer": f"{label} at {ratio:.2f} chars/token)", "chars_per_token": ratio}
        return {"tokenizer": f"estimate {ratio:.2f} chars/token", "chars_per_token": ratio}
