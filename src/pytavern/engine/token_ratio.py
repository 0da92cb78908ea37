"""The characters-per-token estimate, learned per connection from the usage backends report.

When a prompt was counted by estimate only and the backend reports how many tokens the
prompt took, the connection's ratio moves part of the way (``SMOOTHING``) toward the ratio
that report implies, within ``MIN_RATIO``..``MAX_RATIO``. It is kept in the connection's
options (``chars_per_token``), so it survives restarts; the engine leaves that option out
of the provider's configuration, so learning never replaces a provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytavern.prompt.inputs import BuiltPrompt
from pytavern.prompt.tokens import CHARS_PER_TOKEN
from pytavern.store import ConnectionRecord, Store

RATIO_OPTION = "chars_per_token"
"""The connection option that holds the learned ratio."""
MIN_RATIO, MAX_RATIO = 1.0, 8.0
"""Bounds of a learned ratio (CJK text is near 1, English prose near 4)."""
PLAUSIBLE = (0.5, 16.0)
"""A report implying a ratio outside this range counts something else (a cached prompt,
a test double): it is ignored rather than learned from."""
SMOOTHING = 0.3
"""How far one report moves the ratio toward what it implies."""
MIN_PROMPT_TOKENS = 32
"""Smaller prompts say too little about the ratio to learn from."""
CHAT_MESSAGE_OVERHEAD = 3
"""Tokens the chat builder adds per message (role and separators), not characters."""


def stored_ratio(options: Mapping[str, Any]) -> float:
    """The connection's learned ratio, else SillyTavern's 3.35."""
    value = options.get(RATIO_OPTION)
    if isinstance(value, int | float) and MIN_RATIO <= value <= MAX_RATIO:
        return float(value)
    return CHARS_PER_TOKEN


def observed_ratio(built: BuiltPrompt, prompt_tokens: int) -> float | None:
    """The characters per token a backend's ``prompt_tokens`` implies for ``built``, or
    ``None`` when the report is too small or implausible to learn from."""
    if prompt_tokens < MIN_PROMPT_TOKENS:
        return None
    if built.text is not None:
        chars, tokens = len(built.text), prompt_tokens
    else:
        chars = sum(len(m.content) + len(m.name or "") for m in built.messages)
        overhead = sum(CHAT_MESSAGE_OVERHEAD + (1 if m.name else 0) for m in built.messages)
        tokens = prompt_tokens - overhead
    if tokens <= 0 or chars <= 0:
        return None
    ratio = chars / tokens
    return ratio if PLAUSIBLE[0] <= ratio <= PLAUSIBLE[1] else None


def next_ratio(current: float, observed: float) -> float:
    """``current`` moved ``SMOOTHING`` of the way toward ``observed``, within the bounds."""
    moved = current + SMOOTHING * (observed - current)
    return round(min(MAX_RATIO, max(MIN_RATIO, moved)), 3)


def learn_ratio(
    store: Store, record: ConnectionRecord, built: BuiltPrompt, prompt_tokens: int | None
) -> float | None:
    """Move ``record``'s ratio toward what ``prompt_tokens`` implies and store it; return
    the new ratio, or ``None`` when there was nothing to learn."""
    observed = observed_ratio(built, prompt_tokens) if prompt_tokens else None
    if observed is None:
        return None
    current = stored_ratio(record.options)
    ratio = next_ratio(current, observed)
    if abs(ratio - current) < 0.005:
        return None
    store.set_connection_option(record.id, RATIO_OPTION, ratio)
    return ratio
