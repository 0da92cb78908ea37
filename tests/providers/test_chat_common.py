"""Shared chat-provider helpers and the registry entries of the chat backends."""

from __future__ import annotations

import pytest

from pytavern.errors import AuthError
from pytavern.providers import api_types, create_provider
from pytavern.providers._chat import merge_same_role, scrub
from pytavern.providers.base import ConnectionConfig, Provider


def test_scrub_makes_one_line_without_the_key() -> None:
    error = AuthError(
        "bad key sk-SECRET-1234\n  try again", provider="p", hint="not sk-SECRET-1234"
    )
    scrub(error, "sk-SECRET-1234")
    assert str(error) == "p: bad key *** try again. not ***"


def test_merge_same_role() -> None:
    merged = merge_same_role([("user", "a"), ("user", "b"), ("assistant", "c"), ("user", "d")])
    assert merged == [("user", "a\n\nb"), ("assistant", "c"), ("user", "d")]


@pytest.mark.parametrize(
    ("api", "key_env", "url"),
    [
        ("openai", "OPENAI_API_KEY", "https://api.openai.com/v1"),
        ("claude", "ANTHROPIC_API_KEY", "https://api.anthropic.com/v1"),
        ("gemini", "GEMINI_API_KEY", "https://generativelanguage.googleapis.com"),
        ("openrouter", "OPENROUTER_API_KEY", "https://openrouter.ai/api/v1"),
        ("custom", None, None),
    ],
)
async def test_registry(api: str, key_env: str | None, url: str | None) -> None:
    entry = api_types()[api]
    assert (entry.key_env, entry.default_url, entry.needs_url) == (key_env, url, api == "custom")
    config = ConnectionConfig(name="n", api=api, url=url or "http://127.0.0.1:9", key="k")
    provider = create_provider(config)
    assert isinstance(provider, Provider) and provider.family == "chat"
    assert provider.name == "n" and provider.supported_samplers() >= {"temperature", "max_tokens"}
    await provider.aclose()
