"""Fallback prompt formatting for text backends: ``request.messages`` as ChatML text.

The prompt engine normally fills ``request.prompt`` with the character's instruct template;
when it did not, text backends format the chat here.
"""

from __future__ import annotations

from pytavern.types import ChatMessage, GenerationRequest

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
CHATML_STOP = (IM_END,)
"""Stop strings for ChatML-formatted prompts."""


def format_message(message: ChatMessage) -> str:
    """Return one message as a ChatML block (a ``name`` is put before the content)."""
    content = f"{message.name}: {message.content}" if message.name else message.content
    return f"{IM_START}{message.role}\n{content}{IM_END}\n"


def chatml_prompt(messages: tuple[ChatMessage, ...], prefill: str | None = None) -> str:
    """Format ``messages`` as ChatML, ending with an open assistant turn and ``prefill``."""
    body = "".join(format_message(message) for message in messages)
    return f"{body}{IM_START}assistant\n{prefill or ''}"


def prompt_and_stops(request: GenerationRequest) -> tuple[str, list[str]]:
    """Return the prompt text and the stop strings to send for ``request``.

    A prompt built by the prompt engine is sent as is with the user's stop strings; otherwise
    the messages are formatted as ChatML and ``<|im_end|>`` is added to the stop strings.
    """
    stops = list(request.sampling.stop or [])
    if request.prompt is not None:
        return request.prompt, stops
    for stop in CHATML_STOP:
        if stop not in stops:
            stops.append(stop)
    return chatml_prompt(request.messages, request.prefill), stops
