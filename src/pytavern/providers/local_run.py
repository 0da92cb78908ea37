"""One generation on a loaded llama.cpp model: map samplers, build the prompt, run the loop.

``GenerationPlan.build`` is pure (no model needed); ``run_generation`` runs in the worker
thread and calls ``emit`` with each piece of text as llama.cpp produces it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pytavern.errors import BadRequestError, GenerationFailedError, ProviderError
from pytavern.providers._samplers import LLAMA_CPP_PYTHON
from pytavern.providers.local_model import LoadedModel
from pytavern.types import FinishReason, GenerationRequest, SamplerSettings

GenerationResult = tuple[FinishReason, int, int]
"""Finish reason, prompt tokens, generated tokens."""


def sampler_kwargs(settings: SamplerSettings, default_seed: int | None = None) -> dict[str, Any]:
    """Map the sampler fields that are set to llama-cpp-python's keyword arguments."""
    kwargs = {
        LLAMA_CPP_PYTHON[name]: value
        for name, value in settings.set_fields().items()
        if name in LLAMA_CPP_PYTHON
    }
    if "seed" not in kwargs and default_seed is not None:
        kwargs["seed"] = default_seed
    kwargs.setdefault("max_tokens", None)  # llama-cpp's completion default is 16 tokens
    return kwargs


@dataclass(frozen=True, slots=True)
class GenerationPlan:
    """Everything the worker needs, decided before it starts."""

    provider: str
    messages: list[dict[str, str]]
    prompt: str | None = None
    prefill: str | None = None
    grammar: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls, request: GenerationRequest, *, provider: str, default_seed: int | None = None
    ) -> GenerationPlan:
        """Turn a request into a plan (pure)."""
        return cls(
            provider=provider,
            messages=[{"role": m.role, "content": m.content} for m in request.messages],
            prompt=request.prompt,
            prefill=request.prefill or None,
            grammar=request.sampling.grammar or None,
            params=sampler_kwargs(request.sampling, default_seed),
        )

    def failure(self, exc: BaseException) -> ProviderError:
        """Map an exception raised by llama-cpp-python to our error tree."""
        text = " ".join(str(exc).split())
        if "exceed context window" in text:
            return BadRequestError(
                f"the prompt does not fit the model's context ({text})",
                provider=self.provider,
                hint="Shorten the chat or raise n_ctx in the connection's options",
            )
        return GenerationFailedError(
            f"llama.cpp failed: {text or type(exc).__name__}",
            provider=self.provider,
            hint="Try again; if it keeps failing, check the model file and the settings",
        )


def run_generation(
    model: LoadedModel,
    plan: GenerationPlan,
    emit: Callable[[str], None],
    stop: threading.Event,
) -> GenerationResult | None:
    """Generate, calling ``emit`` per piece; return ``None`` if ``stop`` was set midway."""
    kwargs = dict(plan.params)
    if plan.grammar:
        kwargs["grammar"] = _grammar(model, plan)
    if plan.prompt is None and plan.prefill is None:
        prompt_tokens = _fits(model, plan, len(_chat_prompt(model, plan)[0]))
        chunks = model.llama.create_chat_completion(messages=plan.messages, stream=True, **kwargs)
        pieces = _chat_pieces(chunks)
    else:
        tokens, stops, criteria = _completion_prompt(model, plan)
        prompt_tokens = _fits(model, plan, len(tokens))
        kwargs["stop"] = list(kwargs.get("stop") or []) + stops
        criteria.append(lambda _tokens, _logits: stop.is_set())
        chunks = model.llama.create_completion(
            tokens, stream=True, stopping_criteria=criteria, **kwargs
        )
        pieces = _text_pieces(chunks)
    reason: FinishReason = "stop"
    produced: list[str] = []
    try:
        for text, finish in pieces:
            if stop.is_set():
                return None
            if text:
                emit(text)
                produced.append(text)
            if finish == "length":
                reason = "length"
    finally:
        chunks.close()
    if stop.is_set():
        return None
    output = "".join(produced).encode("utf-8")
    output_tokens = len(model.llama.tokenize(output, add_bos=False, special=True)) if output else 0
    return reason, prompt_tokens, output_tokens


def _fits(model: LoadedModel, plan: GenerationPlan, prompt_tokens: int) -> int:
    """Return ``prompt_tokens`` if the prompt leaves room to generate, else refuse it."""
    if prompt_tokens < model.n_ctx:
        return prompt_tokens
    raise BadRequestError(
        f"the prompt is {prompt_tokens} tokens but the model's context is {model.n_ctx} tokens",
        provider=plan.provider,
        hint="Shorten the chat or raise n_ctx in the connection's options",
    )


def _chat_pieces(chunks: Iterator[Any]) -> Iterator[tuple[str | None, str | None]]:
    for chunk in chunks:
        choice = chunk["choices"][0]
        yield choice["delta"].get("content"), choice.get("finish_reason")


def _text_pieces(chunks: Iterator[Any]) -> Iterator[tuple[str | None, str | None]]:
    for chunk in chunks:
        choice = chunk["choices"][0]
        yield choice.get("text"), choice.get("finish_reason")


def _chat_prompt(model: LoadedModel, plan: GenerationPlan) -> tuple[list[int], Any]:
    """Format the messages with the GGUF's chat template (plus prefill) and tokenize."""
    result = model.chat_formatter()(messages=plan.messages)
    text = result.prompt + (plan.prefill or "")
    tokens = model.llama.tokenize(
        text.encode("utf-8"), add_bos=not result.added_special, special=True
    )
    return tokens, result


def _completion_prompt(
    model: LoadedModel, plan: GenerationPlan
) -> tuple[list[int], list[str], Any]:
    """Tokens, extra stop strings and stopping criteria for the text-completion path."""
    from llama_cpp import StoppingCriteriaList

    if plan.prompt is not None:
        text = plan.prompt
        if plan.prefill and not text.endswith(plan.prefill):
            text += plan.prefill
        tokens = model.llama.tokenize(text.encode("utf-8"), add_bos=True, special=True)
        return tokens, [], StoppingCriteriaList()
    tokens, result = _chat_prompt(model, plan)
    stops = [result.stop] if isinstance(result.stop, str) else list(result.stop or [])
    criteria = StoppingCriteriaList(list(result.stopping_criteria or []))
    return tokens, stops, criteria


def _grammar(model: LoadedModel, plan: GenerationPlan) -> Any:
    """Parse the GBNF grammar with llama.cpp first: it crashes on an invalid one later."""
    import llama_cpp
    from llama_cpp.llama_grammar import LlamaGrammar

    text = plan.grammar or ""
    probe = llama_cpp.llama_sampler_init_grammar(
        model.llama._model.vocab, text.encode("utf-8"), b"root"
    )
    if not probe:
        raise BadRequestError(
            "the grammar is not valid GBNF (llama.cpp could not parse it, or it has no root rule)",
            provider=plan.provider,
            hint="Fix the grammar in the sampler settings, or clear it",
        )
    llama_cpp.llama_sampler_free(probe)
    return LlamaGrammar.from_string(text, verbose=False)
