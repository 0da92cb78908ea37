"""InfermaticAI: hosted models behind OpenAI's completions API (``api.totalgpt.ai``).

Bearer auth, ``/v1/models`` and ``/v1/completions``. Its quirk: a whole (not streamed)
completion answers in chat form, ``choices[].message.content``, which is read as the
``text`` every other completions server sends (as SillyTavern remaps it). Errors come in
LiteLLM's envelope (``{"error": {"message", "type", "param", "code": "500"}}``), and its
limit is on requests per minute.
"""

from __future__ import annotations

from typing import Any

from pytavern.providers._text_flavour import TextFlavourProvider
from pytavern.providers.spec import BackendSpec
from pytavern.types import FinishReason

KEY_PAGE = "https://infermatic.ai (log in; API keys are under the left menu)"


def message_as_text(data: Any) -> Any:
    """``data`` with each choice's ``message.content`` as its ``text`` (chat-form answers)."""
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        return data
    choices = []
    for choice in data["choices"]:
        if isinstance(choice, dict) and "text" not in choice:
            message = choice.get("message")
            content = message.get("content") if isinstance(message, dict) else None
            choice = {**choice, "text": content or ""}
        choices.append(choice)
    return {**data, "choices": choices}


class InfermaticAIProvider(TextFlavourProvider):
    """InfermaticAI's ``/v1/completions``."""

    api = "infermaticai"
    sampler_backend = "vllm"
    default_url = "https://api.totalgpt.ai"
    service = "InfermaticAI"
    key_page = KEY_PAGE
    model_advice = "Pick one of the models your plan lists (`pytavern connections models NAME`)"
    rate_advice = (
        "InfermaticAI limits requests per minute for each plan: wait a minute and try again"
    )
    needs_model = True

    def _chunk(self, data: Any, previous: FinishReason | None) -> tuple[str, FinishReason | None]:
        """Read a chat-form answer (``message.content``) as completions text."""
        return super()._chunk(message_as_text(data), previous)


SPEC = BackendSpec(
    name="infermaticai",
    label="InfermaticAI",
    group="text",
    family="text",
    provider=InfermaticAIProvider,
    default_url="https://api.totalgpt.ai",
    needs_url=False,
    key_env="INFERMATICAI_API_KEY",
    key_required=True,
    sampler_table="vllm",
    needs_model=True,
)
