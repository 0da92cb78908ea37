"""Provider registry: API type name -> provider class, imported lazily on first use.

Adding a backend is one module plus one line in ``_REGISTRY``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from pytavern.errors import ConfigError
from pytavern.providers.base import ConnectionConfig, Family, Provider


@dataclass(frozen=True, slots=True)
class ApiType:
    """A registered API type: where its class lives and what it needs."""

    target: str
    label: str
    needs_url: bool = True
    key_env: str | None = None
    default_url: str | None = None

    def provider_class(self) -> Callable[[ConnectionConfig], Provider]:
        """The provider class (its module is imported on first use)."""
        module_name, _, class_name = self.target.partition(":")
        provider_class: Callable[[ConnectionConfig], Provider] = getattr(
            importlib.import_module(module_name), class_name
        )
        return provider_class

    @property
    def family(self) -> Family:
        """Whether the API takes chat messages, a text prompt, or is the built-in model."""
        family: Family = self.provider_class().family  # type: ignore[attr-defined]
        return family


_REGISTRY: dict[str, ApiType] = {
    "local": ApiType("pytavern.providers.local:LocalProvider", "Built-in model", needs_url=False),
    "kobold": ApiType(
        "pytavern.providers.kobold:KoboldProvider",
        "KoboldAI United (classic API)",
        default_url="http://127.0.0.1:5000",
    ),
    "koboldcpp": ApiType(
        "pytavern.providers.kobold:KoboldCppProvider",
        "KoboldCpp",
        key_env="KOBOLDCPP_API_KEY",
        default_url="http://127.0.0.1:5001",
    ),
    "ooba": ApiType(
        "pytavern.providers.openai_text:OobaProvider",
        "text-generation-webui (Oobabooga)",
        key_env="OOBA_API_KEY",
        default_url="http://127.0.0.1:5000",
    ),
    "tabby": ApiType(
        "pytavern.providers.openai_text:TabbyProvider",
        "TabbyAPI",
        key_env="TABBY_API_KEY",
        default_url="http://127.0.0.1:5000",
    ),
    "vllm": ApiType(
        "pytavern.providers.openai_text:VllmProvider",
        "vLLM",
        key_env="VLLM_API_KEY",
        default_url="http://127.0.0.1:8000",
    ),
    "mancer": ApiType(
        "pytavern.providers.openai_text:MancerProvider",
        "Mancer",
        key_env="MANCER_API_KEY",
        default_url="https://neuro.mancer.tech",
    ),
    "dreamgen": ApiType(
        "pytavern.providers.openai_text:DreamGenProvider",
        "DreamGen",
        key_env="DREAMGEN_API_KEY",
        default_url="https://dreamgen.com",
    ),
    "llamacpp": ApiType(
        "pytavern.providers.llamacpp:LlamaCppProvider",
        "llama.cpp server",
        key_env="LLAMACPP_API_KEY",
        default_url="http://127.0.0.1:8080",
    ),
    "ollama": ApiType(
        "pytavern.providers.ollama:OllamaProvider",
        "Ollama",
        default_url="http://127.0.0.1:11434",
    ),
    "horde": ApiType(
        "pytavern.providers.horde:HordeProvider",
        "AI Horde",
        key_env="HORDE_API_KEY",
        default_url="https://aihorde.net/api",
    ),
    "novelai": ApiType(
        "pytavern.providers.novelai:NovelAIProvider",
        "NovelAI",
        key_env="NOVELAI_API_KEY",
        default_url="https://text.novelai.net",
    ),
    "openai": ApiType(
        "pytavern.providers.openai_compat:OpenAICompatProvider",
        "OpenAI",
        needs_url=False,
        key_env="OPENAI_API_KEY",
        default_url="https://api.openai.com/v1",
    ),
    "claude": ApiType(
        "pytavern.providers.anthropic:AnthropicProvider",
        "Anthropic Claude",
        needs_url=False,
        key_env="ANTHROPIC_API_KEY",
        default_url="https://api.anthropic.com/v1",
    ),
    "gemini": ApiType(
        "pytavern.providers.gemini:GeminiProvider",
        "Google Gemini (AI Studio)",
        needs_url=False,
        key_env="GEMINI_API_KEY",
        default_url="https://generativelanguage.googleapis.com",
    ),
    "openrouter": ApiType(
        "pytavern.providers.openai_compat:OpenAICompatProvider",
        "OpenRouter",
        needs_url=False,
        key_env="OPENROUTER_API_KEY",
        default_url="https://openrouter.ai/api/v1",
    ),
    "custom": ApiType(
        "pytavern.providers.openai_compat:OpenAICompatProvider",
        "Custom OpenAI-compatible",
        needs_url=True,
    ),
}


def api_types() -> dict[str, ApiType]:
    """Return every registered API type by name."""
    return dict(_REGISTRY)


def get_api_type(api: str) -> ApiType:
    """Return the registered API type ``api`` or raise a ``ConfigError`` listing the choices."""
    try:
        return _REGISTRY[api]
    except KeyError:
        choices = ", ".join(sorted(_REGISTRY))
        raise ConfigError(f"unknown API type {api!r}", hint=f"Choose one of: {choices}") from None


def create_provider(config: ConnectionConfig) -> Provider:
    """Build the provider for ``config``."""
    return get_api_type(config.api).provider_class()(config)
