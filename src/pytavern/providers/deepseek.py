"""DeepSeek: an OpenAI-compatible flavour whose reasoner streams its thinking apart.

``deepseek-reasoner`` sends ``reasoning_content`` in its stream deltas (and its answer):
the shared delta parser turns it into ``ReasoningDelta`` events, shown as reasoning and
never mixed into the reply. The reasoner ignores temperature, top_p and the penalties,
which are still sent (DeepSeek accepts them), and refuses successive messages of one role:
for it, later system messages become user turns and same-role turns are merged (as
SillyTavern's strict post-processing does). A 402 means the account ran out of balance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytavern.providers import _openai_wire as wire
from pytavern.providers._chat import merge_same_role
from pytavern.providers._vendor_advice import vendor_advice
from pytavern.providers.openai_compat import openai_flavour

KEY_PAGE = "https://platform.deepseek.com/api_keys"
TOP_UP_PAGE = "https://platform.deepseek.com/top_up"


def strict_turns(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leading system messages, then turns with no two successive of one role."""
    count = 0
    while count < len(messages) and messages[count]["role"] == "system":
        count += 1
    turns = merge_same_role(
        ("user" if m["role"] == "system" else m["role"], _named(m)) for m in messages[count:]
    )
    return messages[:count] + [{"role": role, "content": text} for role, text in turns]


def _named(message: Mapping[str, Any]) -> str:
    name = message.get("name")
    return f"{name}: {message['content']}" if name else str(message["content"])


def body_fields(body: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` with strict turns for the reasoner."""
    if not str(body.get("model", "")).endswith("-reasoner"):
        return body
    return {**body, "messages": strict_turns(body["messages"])}


FLAVOUR = wire.Flavour(
    "deepseek",
    wire.OPENAI_SAMPLERS,
    stop_limit=16,
    body=body_fields,
    refine_error=vendor_advice(
        "deepseek",
        "DeepSeek",
        KEY_PAGE,
        "DEEPSEEK_API_KEY",
        notes={
            402: f"The DeepSeek account has no balance left: add funds at {TOP_UP_PAGE}",
            422: "DeepSeek refused a parameter: check the sampler settings and the model "
            "(deepseek-chat or deepseek-reasoner)",
        },
    ),
)

SPEC = openai_flavour(
    "deepseek",
    "DeepSeek",
    default_url="https://api.deepseek.com/v1",
    key_env="DEEPSEEK_API_KEY",
    flavour=FLAVOUR,
    default_model="deepseek-chat",
)
