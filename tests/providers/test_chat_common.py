"""Shared chat-provider helpers and the registry entries of the chat backends."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Response

from pytavern.errors import AuthError, StreamInterruptedError, UpstreamServerError
from pytavern.providers import _openai_wire, api_types, create_provider
from pytavern.providers._chat import merge_same_role, scrub
from pytavern.providers.base import ConnectionConfig, Provider
from pytavern.types import ModelInfo
from tests.fakes.server import serve
from tests.providers.chat_helpers import partial_then_error, request


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


TRUNCATED = {
    # api: (path the provider posts to, a body that stops before the terminal event)
    "custom": (
        "/v1/chat/completions",
        'data: {"choices": [{"index": 0, "delta": {"content": "Half"}}]}\n\n',
    ),
    "claude": (
        "/v1/messages",
        'event: message_start\ndata: {"type": "message_start", "message": {"usage": {}}}\n\n'
        'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, '
        '"delta": {"type": "text_delta", "text": "Half"}}\n\n',
    ),
    "gemini": (
        "/v1beta/models/m:streamGenerateContent",
        'data: {"candidates": [{"content": {"parts": [{"text": "Half"}]}}]}\r\n\r\n',
    ),
}


@pytest.mark.parametrize("api", sorted(TRUNCATED))
async def test_stream_that_ends_without_its_terminal_event(api: str) -> None:
    path, body = TRUNCATED[api]
    app = FastAPI()

    @app.post(path)
    async def reply() -> Response:
        return Response(body, media_type="text/event-stream")

    with serve(app) as url:
        provider = create_provider(
            ConnectionConfig(name="cut", api=api, url=url, key="k", model="m")
        )
        got, error = await partial_then_error(provider, request("x"))
        await provider.aclose()
    assert got == "Half" and isinstance(error, StreamInterruptedError)
    assert str(error).startswith("cut: ") and error.hint


def test_openrouter_models_and_int_error_codes() -> None:
    models = _openai_wire.parse_models(
        {"data": [{"id": "a/b", "name": "B", "context_length": 8192}, {"x": 1}]}
    )
    assert models == [ModelInfo(id="a/b", name="B", context_length=8192)]
    with pytest.raises(UpstreamServerError):
        _openai_wire.StreamParser("p").feed({"error": {"code": 502, "message": "upstream"}})
