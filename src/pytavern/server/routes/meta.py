"""What the UI needs to know about this server: API types, version, health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pytavern import __version__
from pytavern.engine.services.connections import ApiType, known_api_types
from pytavern.server.deps import OwnerDep

router = APIRouter(tags=["meta"])

GROUPS: dict[str, str] = {
    "chat": "Chat Completion",
    "text": "Text Completion",
    "kobold": "KoboldAI",
    "novelai": "NovelAI",
    "horde": "AI Horde",
    "local": "Built-in model",
}
_TEXT_APIS = frozenset(
    {
        "koboldcpp",
        "llamacpp",
        "llama.cpp",
        "ollama",
        "textgen",
        "ooba",
        "oobabooga",
        "tabby",
        "tabbyapi",
        "vllm",
        "aphrodite",
        "openai-text",
        "openai_text",
        "text",
        "mancer",
        "infermatic",
        "dreamgen",
        "togetherai",
        "featherless",
        "huggingface",
        "generic",
    }
)


def api_group(name: str, api_type: ApiType) -> str:
    """Which of SillyTavern's API families an API type belongs to."""
    declared = getattr(api_type, "group", None) or getattr(api_type, "family", None)
    if isinstance(declared, str) and declared in GROUPS:
        return declared
    lowered = name.lower()
    for marker in ("horde", "novel", "local"):
        if marker in lowered:
            return "novelai" if marker == "novel" else marker
    if lowered in {"kobold", "koboldai"}:
        return "kobold"
    return "text" if lowered in _TEXT_APIS else "chat"


@router.get("/api-types")
async def list_api_types(_owner: OwnerDep) -> list[dict[str, Any]]:
    """Every registered API type with its label and family, for the connection panel.

    With accounts on, only logged-in users may list them (like every non-public route).
    """
    return [
        {
            "name": name,
            "label": api_type.label,
            "group": api_group(name, api_type),
            "group_label": GROUPS[api_group(name, api_type)],
            "needs_url": api_type.needs_url,
            "default_url": api_type.default_url,
            "key_env": api_type.key_env,
        }
        for name, api_type in sorted(known_api_types().items())
    ]


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness and version."""
    return {"status": "ok", "version": __version__}
