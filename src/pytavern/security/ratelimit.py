"""A sliding-window rate limiter for login attempts, per client."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """Allows ``limit`` attempts per ``window`` seconds for each key (e.g. client IP)."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._attempts: dict[str, deque[float]] = {}

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again (0 when it may now)."""
        attempts = self._prune(key)
        if len(attempts) < self.limit:
            return 0.0
        return max(attempts[0] + self.window - self._clock(), 0.0)

    def hit(self, key: str) -> None:
        """Record an attempt by ``key``."""
        self._prune(key).append(self._clock())

    def reset(self, key: str) -> None:
        """Forget ``key``'s attempts (after a successful login)."""
        self._attempts.pop(key, None)

    def _prune(self, key: str) -> deque[float]:
        attempts = self._attempts.setdefault(key, deque())
        cutoff = self._clock() - self.window
        while attempts and attempts[0] <= cutoff:
            attempts.popleft()
        if len(self._attempts) > 10_000:
            self._attempts = {k: v for k, v in self._attempts.items() if v}
        return attempts
