"""The ``local`` provider: a GGUF model run in-process through llama-cpp-python.

llama.cpp's token generator runs in a worker thread; each piece of text is handed to the
event loop with ``call_soon_threadsafe`` into an ``asyncio.Queue``, so the loop never blocks.
Generations on one model take turns (``TurnGate``); a stopped stream sets a
``threading.Event`` and the worker stops at the next token and frees the model.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import Field

from pytavern.errors import GenerationFailedError, ModelLoadError, PytavernError
from pytavern.events import Finished, StatusEvent, StreamEvent, TextDelta, UsageEvent
from pytavern.providers._samplers import LLAMA_CPP_PYTHON
from pytavern.providers.base import ConnectionConfig, Family
from pytavern.providers.local_model import (
    BUILTIN_MODEL_ID,
    DEFAULT_N_CTX,
    LoadedModel,
    builtin_model_path,
    get_model,
    model_name,
)
from pytavern.providers.local_run import GenerationPlan, GenerationResult, run_generation
from pytavern.providers.spec import BackendSpec, Capabilities, CommonOptions
from pytavern.types import (
    ConnectionStatus,
    FinishReason,
    GenerationRequest,
    ModelInfo,
    Usage,
)

WAITING_MESSAGE = "waiting for another generation to finish"
T = TypeVar("T")

_SAMPLERS = frozenset(LLAMA_CPP_PYTHON) | {"grammar"}
"""The fields the built-in model takes: the mapped ones, and a grammar it builds itself."""


@dataclass(frozen=True, slots=True)
class _End:
    reason: FinishReason
    usage: Usage


class _Job:
    """The bridge between the worker thread and the consuming coroutine."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[str | _End | BaseException] = asyncio.Queue()
        self.stop = threading.Event()
        self._put = self.queue.put_nowait

    def put(self, item: str | _End | BaseException) -> None:
        """Hand ``item`` to the event loop; if the loop is gone, stop generating."""
        try:
            self.loop.call_soon_threadsafe(self._put, item)
        except RuntimeError:
            self.stop.set()


class LocalProvider:
    """Runs a GGUF model in-process (the built-in SmolLM2 unless ``model_path`` is given)."""

    api = "local"
    family: Family = "local"

    def __init__(self, config: ConnectionConfig) -> None:
        self._config = config
        options = config.options
        self._n_ctx = int(options.get("n_ctx") or DEFAULT_N_CTX)
        threads = options.get("n_threads")
        self._n_threads = int(threads) if threads else None
        seed = options.get("seed")
        self._seed = int(seed) if seed is not None else None
        self._path: Path | None = None

    @property
    def name(self) -> str:
        """The connection's name, used in error messages."""
        return self._config.name

    def model_path(self) -> Path:
        """Return the GGUF file this connection uses (raises if the built-in one is missing)."""
        if self._path is None:
            self._path = self._resolve_path()
        return self._path

    def _resolve_path(self) -> Path:
        path = self._config.options.get("model_path")
        if path:
            return Path(str(path)).expanduser()
        model = self._config.model
        if model and model.lower().endswith(".gguf"):
            return Path(model).expanduser()
        return builtin_model_path()

    def supported_samplers(self) -> frozenset[str]:
        """Names of the ``SamplerSettings`` fields llama.cpp takes here."""
        return _SAMPLERS

    def load_model(self) -> LoadedModel:
        """Return the loaded model, loading it on first use (blocking; see ``ensure_loaded``)."""
        return get_model(self.model_path(), self._n_ctx, self._n_threads, self._seed)

    async def ensure_loaded(self) -> LoadedModel:
        """Return the loaded model, loading it in a worker thread on first use."""
        return await asyncio.to_thread(self.load_model)

    @property
    def context_limit(self) -> int:
        """The context window the model is loaded with (``n_ctx``)."""
        return self._n_ctx

    def count_tokens_sync(self, text: str) -> int:
        """Count ``text``'s tokens with the model's own vocabulary (loads it on first use)."""
        if not text:
            return 0
        llama = self.load_model().llama
        return len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    async def count_tokens(self, text: str) -> int | None:
        """``count_tokens_sync`` after loading the model off the event loop."""
        await self.ensure_loaded()
        return self.count_tokens_sync(text)

    async def check(self) -> ConnectionStatus:
        """Load the model for real and report its name, file and context size."""
        try:
            model = await self.ensure_loaded()
        except ModelLoadError as exc:
            return ConnectionStatus(ok=False, summary=exc.message, hint=exc.hint)
        trained = model.llama.n_ctx_train() if hasattr(model.llama, "n_ctx_train") else None
        return ConnectionStatus(
            ok=True,
            summary=f"{model.name} loaded from {model.path} (context {model.n_ctx} tokens)",
            model=model.name,
            models=(model.name,),
            details={"path": str(model.path), "n_ctx": model.n_ctx, "n_ctx_train": trained},
        )

    async def list_models(self) -> list[ModelInfo]:
        """List the built-in model and, when one is configured, the configured file."""
        n_ctx = self._n_ctx
        models = [
            ModelInfo(BUILTIN_MODEL_ID, "SmolLM2 135M Instruct (built-in)", context_length=n_ctx)
        ]
        configured = self._config.options.get("model_path") or self._config.model
        if configured and str(configured).lower().endswith(".gguf"):
            path = Path(str(configured))
            models.append(ModelInfo(path.name, model_name(path), context_length=n_ctx))
        return models

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Generate with the model, yielding text as llama.cpp produces it."""
        model = await self.ensure_loaded()
        plan = GenerationPlan.build(request, provider=self.name, default_seed=self._seed)
        ticket = model.gate.try_enter(asyncio.get_running_loop())
        if ticket is not None:
            future, position = ticket
            try:
                yield StatusEvent(WAITING_MESSAGE, queue_position=position)
            except BaseException:
                model.gate.abandon(future)
                raise
            await model.gate.wait(future)
        job = _start_worker(model, plan)
        try:
            while True:
                item = await job.queue.get()
                if isinstance(item, str):
                    yield TextDelta(item)
                elif isinstance(item, _End):
                    yield UsageEvent(item.usage)
                    yield Finished(item.reason, model=model.name)
                    return
                else:
                    raise item
        finally:
            job.stop.set()

    async def embed(self, texts: Sequence[str], model: str) -> list[list[float]]:
        """Vectors of ``texts`` (``model`` is ignored: the connection's GGUF, loaded a second
        time to make embeddings, each the mean of a text's token vectors; a text longer
        than the context is cut). They are made on that instance's own thread."""
        path = self.model_path()
        loaded = await asyncio.to_thread(
            get_model, path, self._n_ctx, self._n_threads, embedding=True
        )
        return await _on_model_thread(loaded, lambda: _embedded(loaded, texts, self.name))

    async def aclose(self) -> None:
        """Nothing to release: loaded models are shared by the process."""


def _embedded(model: LoadedModel, texts: Sequence[str], provider: str) -> list[list[float]]:
    """Each text's vector, one text at a time (llama.cpp's worker thread)."""
    try:
        return [[float(x) for x in model.llama.embed(text, truncate=True)] for text in texts]
    except (ValueError, RuntimeError) as exc:
        raise GenerationFailedError(
            f"the model could not make embeddings: {exc}",
            provider=provider,
            hint="Use a GGUF that makes embeddings, or another connection for them",
        ) from None


async def _on_model_thread(model: LoadedModel, work: Callable[[], T]) -> T:
    """``work()`` run on ``model``'s worker thread, awaited."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)  # type: ignore[arg-type]

    def job() -> None:
        try:
            result = work()
        except BaseException as error:  # handed to the awaiting task
            loop.call_soon_threadsafe(settle, None, error)
        else:
            loop.call_soon_threadsafe(settle, result, None)

    model.submit(job)
    return await done


def _start_worker(model: LoadedModel, plan: GenerationPlan) -> _Job:
    """Queue the generation on the model's thread; it leaves the gate when done."""
    job = _Job(asyncio.get_running_loop())
    try:
        model.submit(lambda: _work(model, plan, job))
    except BaseException:
        model.gate.leave()
        raise
    return job


def _work(model: LoadedModel, plan: GenerationPlan, job: _Job) -> None:
    """Run one generation; free the model *before* the last event so the next can start."""
    outcome: GenerationResult | BaseException | None
    try:
        outcome = run_generation(model, plan, job.put, job.stop)
    except PytavernError as exc:
        outcome = exc
    except BaseException as exc:  # never let the model's thread die
        outcome = plan.failure(exc)
    finally:
        model.gate.leave()
    if isinstance(outcome, BaseException):
        job.put(outcome)
    elif outcome is not None:
        reason, prompt_tokens, output_tokens = outcome
        job.put(_End(reason, Usage(prompt_tokens, output_tokens)))


class LocalOptions(CommonOptions):
    """The built-in model's connection options."""

    model_path: str | None = Field(
        None, description="A GGUF file to run instead of the built-in model."
    )
    n_ctx: int = Field(DEFAULT_N_CTX, gt=0, description="Context size in tokens.")
    n_threads: int | None = Field(None, gt=0, description="CPU threads (all cores when unset).")
    seed: int | None = Field(None, description="Random seed of the sampler.")


SPEC = BackendSpec(
    name="local",
    label="Built-in model",
    group="local",
    family="local",
    provider=LocalProvider,
    options=LocalOptions,
    needs_url=False,
    sampler_table=None,
    tokenizer="local",
    capabilities=Capabilities(
        prefill=True, context_limit=True, load_unload=True, token_counting=True
    ),
)
