"""Token counting: a ``Tokenizer`` protocol, OpenAI BPE (offline), an estimate, a cache.

``CountCache`` holds exact counts a caller got elsewhere (a backend's tokenize endpoint);
``RecordingTokenizer`` answers from it and estimates the texts it does not hold, noting them
so the caller can count them exactly and build again (the builder itself stays synchronous).
"""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, Protocol, runtime_checkable

from pytavern.errors import ConfigError

CHARS_PER_TOKEN = 3.35
"""SillyTavern's fallback estimate: characters per token."""


@runtime_checkable
class Tokenizer(Protocol):
    """Anything that can count tokens in a text."""

    def count(self, text: str) -> int:
        """Return the number of tokens in ``text``."""
        ...


class CharRatioTokenizer:
    """Estimate tokens as ``ceil(len(text) / chars_per_token)``."""

    def __init__(self, chars_per_token: float = CHARS_PER_TOKEN) -> None:
        if chars_per_token <= 0:
            raise ConfigError("chars_per_token must be positive", hint="Use a value like 3.35.")
        self.chars_per_token = chars_per_token

    def count(self, text: str) -> int:
        """Estimated token count."""
        return math.ceil(len(text) / self.chars_per_token) if text else 0

    @classmethod
    def measured(cls, tokenizer: Tokenizer, sample: str) -> CharRatioTokenizer:
        """Build an estimate whose ratio is measured against a real tokenizer on ``sample``."""
        tokens = tokenizer.count(sample)
        return cls(len(sample) / tokens if tokens else CHARS_PER_TOKEN)


_O200K_FAMILIES = (
    "gpt-4o",
    "chatgpt-4o",
    "gpt-4.1",
    "gpt-4.5",
    "gpt-5",
    "gpt-oss",
    "o1",
    "o3",
    "o4",
)
_CL100K_FAMILIES = ("gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada")


def openai_encoding(model: str, *, openai_api: bool) -> str | None:
    """The BPE encoding of an OpenAI ``model`` (``openai/gpt-4o`` on a router too), decided
    without loading a table; for another model ``None``, or ``o200k_base`` on OpenAI's own
    API (a model newer than this list). Another vendor's model counted with OpenAI's BPE
    would only be a guess, and its tables cost ~140 MB of memory."""
    name = model.lower().rsplit("/", 1)[-1]
    if name.startswith(_O200K_FAMILIES):
        return "o200k_base"
    if name.startswith(_CL100K_FAMILIES):
        return "cl100k_base"
    return "o200k_base" if openai_api else None


class OpenAITokenizer:
    """Exact counts with OpenAI's BPE encodings (``cl100k_base``, ``o200k_base``), offline."""

    def __init__(self, encoding: str = "cl100k_base") -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                import bpe_openai

                self._enc: Any = bpe_openai.get_encoding(encoding)
        except Exception as exc:
            raise ConfigError(
                f"unknown OpenAI encoding {encoding!r}",
                hint="Use cl100k_base (GPT-4, GPT-3.5) or o200k_base (GPT-4o and newer).",
            ) from exc
        self.encoding = encoding

    @classmethod
    def for_model(cls, model: str) -> OpenAITokenizer:
        """The encoding OpenAI uses for ``model`` (o200k for unknown new models)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import bpe_openai
        try:
            return cls(bpe_openai.encoding_name_for_model(model))
        except Exception:
            return cls("o200k_base")

    def count(self, text: str) -> int:
        """Exact token count; special-token text counts as ordinary text."""
        return len(self._enc.encode_ordinary(text)) if text else 0


class CountCache:
    """A bounded least-recently-used map of text -> token count."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self.max_entries = max_entries
        self._counts: OrderedDict[str, int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._counts)

    def get(self, text: str) -> int | None:
        """The stored count of ``text`` (marking it recently used), else ``None``."""
        value = self._counts.get(text)
        if value is not None:
            self._counts.move_to_end(text)
        return value

    def put(self, text: str, count: int) -> None:
        """Store ``count`` for ``text``, dropping the least recently used beyond the bound."""
        self._counts[text] = count
        self._counts.move_to_end(text)
        if len(self._counts) > self.max_entries:
            self._counts.popitem(last=False)


class CachedTokenizer:
    """Wrap a tokenizer with a bounded cache of counts (prompt parts repeat every turn)."""

    def __init__(self, inner: Tokenizer, max_entries: int = 50_000) -> None:
        self.inner = inner
        self._cache = CountCache(max_entries)
        self.hits = 0
        self.misses = 0

    def count(self, text: str) -> int:
        """Cached token count."""
        cached = self._cache.get(text)
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        value = self.inner.count(text)
        self._cache.put(text, value)
        return value


class KeyedTokenizer:
    """A tokenizer whose counts never change, named by ``key`` (its ``counts_key``), so
    counts made with it can be kept between builds (e.g. a local model's own vocabulary,
    keyed by the provider that serves it)."""

    def __init__(self, inner: Tokenizer, key: Hashable) -> None:
        self.inner = inner
        self.key = key

    def count(self, text: str) -> int:
        """``inner``'s count."""
        return self.inner.count(text)


class RecordingTokenizer:
    """Exact counts from ``cache``; other texts are estimated by ``fallback`` and recorded.

    ``missed`` lists the estimated texts in first-seen order, so they can be counted exactly
    and the prompt built again; ``exact`` and ``estimated`` say how many counts were which.
    """

    def __init__(self, cache: CountCache, fallback: Tokenizer) -> None:
        self.cache = cache
        self.fallback = fallback
        self.missed: dict[str, None] = {}
        self.exact = 0
        self.estimated = 0

    def count(self, text: str) -> int:
        """The exact count when known, else the estimate (and ``text`` is recorded)."""
        if not text:
            return 0
        cached = self.cache.get(text)
        if cached is not None:
            self.exact += 1
            return cached
        self.estimated += 1
        self.missed[text] = None
        return self.fallback.count(text)


def counts_key(tokenizer: Tokenizer) -> Hashable | None:
    """A key that is equal for tokenizers counting every text alike, now and later, so a
    count made with one can be kept for the next builds; ``None`` when counts may change
    (``RecordingTokenizer``: its estimates turn exact) or are not known to be stable (a
    backend's or another tokenizer)."""
    if type(tokenizer) is CachedTokenizer:  # exact types: a subclass may count otherwise
        return counts_key(tokenizer.inner)
    if type(tokenizer) is CharRatioTokenizer:
        return ("chars", tokenizer.chars_per_token)
    if type(tokenizer) is OpenAITokenizer:
        return ("openai", tokenizer.encoding)
    if type(tokenizer) is KeyedTokenizer:
        return tokenizer.key
    return None
