"""The OpenAI-compatible provider (openai, openrouter, custom) against the fake OpenAI API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from hypothesis import given, settings
from hypothesis import strategies as st

from pytavern.errors import (
    AuthError,
    ConfigError,
    ConnectFailedError,
    GenerationFailedError,
    MissingKeyError,
    ProviderError,
    RateLimitError,
    StreamInterruptedError,
    StreamProtocolError,
    UpstreamNotFoundError,
    UpstreamServerError,
    UpstreamTimeoutError,
)
from pytavern.events import TextDelta
from pytavern.providers import _openai_wire as wire
from pytavern.providers import openrouter
from pytavern.providers._sse import UNFRAMED_JSON, ServerSentEvent
from pytavern.providers.base import ConnectionConfig
from pytavern.providers.openai_compat import ChunkReader, OpenAICompatProvider
from pytavern.types import ChatMessage, GenerationRequest, SamplerSettings
from tests.fakes import openai_fake
from tests.fakes.openai_fake import DEFAULT_KEY
from tests.fakes.server import free_port, serve
from tests.providers.chat_helpers import (
    collect,
    fake,
    finished,
    partial_then_error,
    provider_for,
    reasoning_of,
    request,
    stop_after_first_text,
    text_of,
    usage_of,
)

# --- pure functions ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://h:8080", "http://h:8080/v1"),
        ("http://h:8080/", "http://h:8080/v1"),
        ("http://h:8080/v1", "http://h:8080/v1"),
        ("http://h:8080/v1/", "http://h:8080/v1"),
        ("http://h:8080/v1/chat/completions", "http://h:8080/v1"),
        ("https://h/api/openai", "https://h/api/openai"),
        ("http://localhost:1234/v1", "http://127.0.0.1:1234/v1"),
    ],
)
def test_base_url_rule(given: str, expected: str) -> None:
    assert wire.normalize_openai_url(given) == expected


@pytest.mark.parametrize("model", ["o1", "o3-mini", "o4-mini-high", "gpt-5", "openai/o3"])
def test_reasoning_models_get_max_completion_tokens(model: str) -> None:
    req = request("hi", max_tokens=50, temperature=0.7, frequency_penalty=0.5, seed=3, stop=["x"])
    body = wire.build_body(req, model, wire.OPENAI, {}, stream=False)
    assert body["max_completion_tokens"] == 50 and "stop" not in body
    assert "max_tokens" not in body and "temperature" not in body
    assert "frequency_penalty" not in body and body["seed"] == 3


def test_openai_body_leaves_out_what_openai_does_not_take() -> None:
    req = request("hi", temperature=0.5, top_k=40, min_p=0.1, stop=list("abcdef"), max_tokens=9)
    body = wire.build_body(req, "gpt-4o-mini", wire.OPENAI, {}, stream=True)
    assert body["temperature"] == 0.5 and body["max_tokens"] == 9
    assert "top_k" not in body and "min_p" not in body
    assert body["stop"] == ["a", "b", "c", "d"]
    assert body["stream_options"] == {"include_usage": True}


def test_openrouter_body_extras() -> None:
    req = request("hi", top_k=40, min_p=0.1, top_a=0.2, repetition_penalty=1.1)
    options = {
        "provider_order": ["A", "B"],
        "allow_fallbacks": False,
        "middle_out": True,
        "include_reasoning": True,
    }
    body = wire.build_body(req, "x/y", openrouter.FLAVOUR, options, stream=False)
    assert body["provider"] == {"order": ["A", "B"], "allow_fallbacks": False}
    assert body["transforms"] == ["middle-out"] and body["include_reasoning"] is True
    assert (body["top_k"], body["min_p"], body["top_a"], body["repetition_penalty"]) == (
        40,
        0.1,
        0.2,
        1.1,
    )


def test_custom_body_merge_and_exclude() -> None:
    options = {"extra_body": {"top_k": 5, "custom": [1]}, "exclude_body": ["stream_options"]}
    body = wire.build_body(request("hi"), "m", wire.CUSTOM, options, stream=True)
    assert body["top_k"] == 5 and body["custom"] == [1] and "stream_options" not in body


def test_parser_reads_reasoning_usage_and_requires_an_end() -> None:
    parser = wire.StreamParser("p")
    events = parser.feed({"choices": [{"index": 0, "delta": {"reasoning": "hm"}}]})
    events += parser.feed({"choices": [{"index": 0, "delta": {"content": "ok"}}]})
    assert reasoning_of(events) == "hm" and text_of(events) == "ok"
    with pytest.raises(StreamInterruptedError):
        parser.end(done=False)
    parser.feed({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})
    parser.feed({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 1}})
    end = parser.end(done=True)
    assert finished(end).reason == "length"
    usage = usage_of(end)
    assert usage is not None and usage.usage.input_tokens == 3


def test_parser_raises_on_error_chunk() -> None:
    with pytest.raises(UpstreamServerError):
        wire.StreamParser("p").feed({"error": {"message": "boom", "code": "server_error"}})
    with pytest.raises(GenerationFailedError):
        wire.StreamParser("p").feed({"error": {"message": "nope"}})


def test_the_flavours_own_error_shape_is_read_first() -> None:
    def own(provider: str, data: dict[str, object]) -> ProviderError | None:
        return RateLimitError("busy", provider=provider) if data.get("busy") else None

    parser = wire.StreamParser("p", answer_error=own)
    with pytest.raises(RateLimitError):
        parser.feed({"busy": True, "error": {"message": "boom", "code": "server_error"}})
    with pytest.raises(UpstreamServerError):
        parser.feed({"error": {"message": "boom", "code": "server_error"}})
    with pytest.raises(RateLimitError):
        wire.parse_reply("p", {"busy": True}, answer_error=own)
    with pytest.raises(StreamProtocolError, match="no 'choices'"):
        wire.parse_reply("p", {"other": True}, answer_error=own)


def test_an_unframed_line_raises_only_the_error_it_carries() -> None:
    reader = ChunkReader("p", None)
    for line in ('{"keepalive": true}', "{not json", "{}"):
        assert reader.parse(ServerSentEvent(line, UNFRAMED_JSON)) == []
    with pytest.raises(GenerationFailedError, match="mid-reply: boom"):
        reader.parse(ServerSentEvent('{"error": {"message": "boom"}}', UNFRAMED_JSON))
    with pytest.raises(StreamInterruptedError):
        reader.end()


# --- against the fake -------------------------------------------------------------------


async def test_check_models_stream_and_non_stream() -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for("openai", f"{url}/v1", DEFAULT_KEY, model="gpt-4o-mini")
        status = await provider.check()
        assert status.ok and "gpt-4o-mini" in status.models
        assert [m.id for m in await provider.list_models()] == list(openai_fake.MODELS)
        events = await collect(provider, request("hello there", system="Be nice"))
        assert text_of(events) == "Echo: hello there"
        assert finished(events).reason == "stop"
        usage = usage_of(events)
        assert usage is not None and usage.usage.output_tokens == 3
        sent = plan.requests[-1]
        assert sent["path"] == "/v1/chat/completions"
        assert sent["headers"]["authorization"] == f"Bearer {DEFAULT_KEY}"
        assert sent["body"]["messages"][0] == {"role": "system", "content": "Be nice"}
        assert sent["body"]["stream_options"] == {"include_usage": True}
        events = await collect(provider, request("again", stream=False, max_tokens=1))
        assert text_of(events) == "Echo:" and finished(events).reason == "length"
        assert plan.requests[-1]["body"]["stream"] is False
        await provider.aclose()


async def test_reasoning_model_body_accepted_and_reasoning_streamed() -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for("openai", f"{url}/v1", DEFAULT_KEY, model="o3-mini")
        req = request("hi", max_tokens=50, temperature=1.0, stop=["x"], presence_penalty=1.0)
        events = await collect(provider, req)
        assert text_of(events) == "Echo: hi"
        assert plan.requests[-1]["body"]["max_completion_tokens"] == 50
        custom = provider_for("custom", url, DEFAULT_KEY, model="thinker")
        events = await collect(custom, request("why"))
        assert reasoning_of(events) == "Thinking about it."
        await provider.aclose()
        await custom.aclose()


@pytest.mark.parametrize("suffix", ["", "/v1", "/v1/chat/completions", "/v1/"])
async def test_custom_url_forms(suffix: str) -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for("custom", url + suffix, DEFAULT_KEY, model="gpt-4o-mini")
        assert (await provider.check()).ok
        assert text_of(await collect(provider, request("x"))) == "Echo: x"
        assert plan.requests[-1]["path"] == "/v1/chat/completions"
        await provider.aclose()


async def test_custom_headers_body_and_exclusions_reach_the_server() -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for(
            "custom",
            url,
            DEFAULT_KEY,
            model="gpt-4o-mini",
            extra_headers={"X-Team": "blue"},
            extra_body={"top_k": 7},
            exclude_body=["stream_options"],
        )
        await collect(provider, request("x"))
        sent = plan.requests[-1]
        assert sent["headers"]["x-team"] == "blue"
        assert sent["body"]["top_k"] == 7 and "stream_options" not in sent["body"]
        await provider.aclose()


async def test_openrouter_headers_and_routing() -> None:
    with fake(openai_fake.create_app, prefix="/api/v1") as (url, plan):
        provider = provider_for(
            "openrouter", f"{url}/api/v1", DEFAULT_KEY, model="gpt-4o-mini", middle_out=True
        )
        await collect(provider, request("x", top_k=3))
        sent = plan.requests[-1]
        assert sent["headers"]["http-referer"] == "https://github.com/pytavern/pytavern"
        assert sent["headers"]["x-title"] == "pytavern"
        assert sent["body"]["transforms"] == ["middle-out"] and sent["body"]["top_k"] == 3
        await provider.aclose()


async def test_openrouter_referer_and_title_are_options() -> None:
    with fake(openai_fake.create_app, prefix="/api/v1") as (url, plan):
        provider = provider_for(
            "openrouter",
            f"{url}/api/v1",
            DEFAULT_KEY,
            model="gpt-4o-mini",
            referer="https://my.example/app",
            title=" My Tavern ",
        )
        await collect(provider, request("x"))
        sent = plan.requests[-1]["headers"]
        assert sent["http-referer"] == "https://my.example/app"
        assert sent["x-title"] == "My Tavern"
        await provider.aclose()
        quiet = provider_for(
            "openrouter", f"{url}/api/v1", DEFAULT_KEY, model="gpt-4o-mini", referer="", title=""
        )
        await collect(quiet, request("x"))
        sent = plan.requests[-1]["headers"]
        assert "http-referer" not in sent and "x-title" not in sent
        assert sent["authorization"] == f"Bearer {DEFAULT_KEY}"
        await quiet.aclose()


@pytest.mark.parametrize("title", ["two\nlines", "Tavèrn", "tab\there"])
def test_openrouter_header_options_must_be_printable_ascii(title: str) -> None:
    with pytest.raises(ConfigError, match="option 'title' must be printable ASCII") as caught:
        provider_for("openrouter", None, DEFAULT_KEY, title=title)
    assert "--option title=VALUE" in (caught.value.hint or "")


async def test_missing_key_names_env_var_and_command() -> None:
    with pytest.raises(MissingKeyError) as caught:
        provider_for("openai", None, None)
    assert "OPENAI_API_KEY" in str(caught.value)
    assert "pytavern connections add test-openai --api openai --key -" in str(caught.value)


async def test_wrong_key_is_an_auth_error_without_the_key() -> None:
    secret = "sk-wrong-secret-key-1234567890"
    with fake(openai_fake.create_app) as (url, _plan):
        provider = provider_for("openai", url, secret, model="gpt-4o-mini")
        status = await provider.check()
        assert not status.ok and "401" in status.summary and status.hint
        with pytest.raises(AuthError) as caught:
            await collect(provider, request("x"))
        assert "test-openai" in str(caught.value) and secret not in str(caught.value)
        assert secret not in repr(provider.config)
        await provider.aclose()


async def test_unknown_model_is_not_found() -> None:
    with fake(openai_fake.create_app) as (url, _plan):
        provider = provider_for("openai", url, DEFAULT_KEY, model="nope")
        with pytest.raises(UpstreamNotFoundError, match="does not exist"):
            await collect(provider, request("x"))
        await provider.aclose()


@pytest.mark.parametrize("fault", ["429", "500", "503"])
async def test_retried_before_first_byte(fault: str) -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for("openai", url, DEFAULT_KEY, model="gpt-4o-mini")
        plan.arm(fault)
        assert text_of(await collect(provider, request("hi"))) == "Echo: hi"
        assert len(plan.requests) == 2
        plan.arm(fault, fault)
        with pytest.raises((RateLimitError, UpstreamServerError)) as caught:
            await collect(provider, request("hi"))
        assert "test-openai" in str(caught.value) and caught.value.hint
        await provider.aclose()


async def test_cut_stream_keeps_partial_text_then_raises() -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for("openai", url, DEFAULT_KEY, model="gpt-4o-mini")
        plan.arm("cut")
        got, error = await partial_then_error(provider, request("one two three four"))
        assert got == "Echo:" and isinstance(error, StreamInterruptedError)
        assert len(plan.requests) == 1
        await provider.aclose()


async def test_a_reply_the_server_ended_with_an_error_is_cut_short() -> None:
    """vLLM ends a reply its engine dropped with ``finish_reason: "abort"`` (OpenRouter
    with ``"error"``) and ``[DONE]``: what arrived is kept, and the reply is not whole."""
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for("openai", url, DEFAULT_KEY, model="gpt-4o-mini")
        plan.arm("abort")
        got, error = await partial_then_error(provider, request("one two three"))
        assert got.startswith("Echo:") and isinstance(error, StreamInterruptedError)
        assert "finish_reason 'abort'" in str(error) and error.hint
        await provider.aclose()
    assert wire.finish_reason("model_length") == "length"


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [("malformed", StreamProtocolError), ("error_in_stream", UpstreamServerError)],
)
async def test_bad_stream_content(fault: str, error_type: type[Exception]) -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for("openai", url, DEFAULT_KEY, model="gpt-4o-mini")
        plan.arm(fault)
        got, error = await partial_then_error(provider, request("one two three"))
        assert got == "Echo:" and isinstance(error, error_type)
        assert "test-openai" in str(error)
        await provider.aclose()


async def test_stall_before_first_byte_times_out() -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for(
            "openai", url, DEFAULT_KEY, model="gpt-4o-mini", timeout_first_byte=0.2, max_retries=0
        )
        plan.arm("stall")
        with pytest.raises(UpstreamTimeoutError, match="timeout_first_byte"):
            await collect(provider, request("x"))
        await provider.aclose()


async def test_stall_mid_stream_times_out_after_partial_text() -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for("openai", url, DEFAULT_KEY, model="gpt-4o-mini", timeout_gap=0.2)
        plan.arm("stall_mid")
        got, error = await partial_then_error(provider, request("a b c"))
        assert got == "Echo:" and isinstance(error, UpstreamTimeoutError)
        await provider.aclose()


async def test_web_page_is_diagnosed() -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for("openai", url, DEFAULT_KEY, model="gpt-4o-mini")
        plan.arm("html")
        status = await provider.check()
        assert not status.ok and "web page" in status.summary
        plan.arm("html")
        with pytest.raises(StreamProtocolError, match="web page"):
            await collect(provider, request("x"))
        await provider.aclose()


async def test_connection_refused_and_dns() -> None:
    provider = provider_for("custom", f"http://127.0.0.1:{free_port()}", None, model="m")
    status = await provider.check()
    assert not status.ok and "refused" in status.summary and status.hint
    with pytest.raises(ConnectFailedError):
        await collect(provider, request("x"))
    await provider.aclose()
    dns = provider_for("custom", "http://no-such-host.invalid", None, model="m", max_retries=0)
    status = await dns.check()
    assert not status.ok and ("DNS" in status.summary or "connect" in status.summary)
    await dns.aclose()


async def test_stop_closes_the_upstream_request() -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for("openai", url, DEFAULT_KEY, model="gpt-4o-mini")
        plan.arm("stall_mid")
        assert await stop_after_first_text(provider, request("a b c"), plan) == "Echo:"
        assert plan.requests[-1]["disconnected"]
        await provider.aclose()


async def test_cancelling_the_task_closes_the_upstream_request() -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for("openai", url, DEFAULT_KEY, model="gpt-4o-mini")
        plan.arm("stall_mid")

        async def consume() -> None:
            async for _event in provider.stream(request("a b c")):
                pass

        task = asyncio.create_task(consume())
        while not plan.requests:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(200):
            if plan.requests[-1]["disconnected"]:
                break
            await asyncio.sleep(0.01)
        assert plan.requests[-1]["disconnected"]
        await provider.aclose()


def test_supported_samplers_say_what_is_sent() -> None:
    config = ConnectionConfig(name="x", api="openai", key="k", model="gpt-4o-mini")
    assert "top_k" not in OpenAICompatProvider(config).supported_samplers()
    config = ConnectionConfig(name="x", api="openrouter", key="k", model="a/b")
    assert {"top_k", "min_p", "top_a"} <= OpenAICompatProvider(config).supported_samplers()
    req = GenerationRequest(messages=(ChatMessage("user", "x"),), sampling=SamplerSettings())
    assert wire.build_body(req, "m", wire.OPENAI, {}, stream=False).keys() == {
        "model",
        "messages",
        "stream",
    }


async def test_plain_json_answer_to_a_stream_request_is_understood() -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for(
            "custom", url, DEFAULT_KEY, model="gpt-4o-mini", exclude_body=["stream"]
        )
        events = await collect(provider, request("no stream here"))
        assert "stream" not in plan.requests[-1]["body"]
        assert text_of(events) == "Echo: no stream here" and finished(events).reason == "stop"
        await provider.aclose()


async def test_check_diagnoses_wrong_path_and_timeout() -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for("custom", f"{url}/wrong/path", DEFAULT_KEY, model="m")
        status = await provider.check()
        assert not status.ok and "404" in status.summary and status.hint
        assert "URL" in status.hint
        await provider.aclose()
        provider = provider_for(
            "custom", url, DEFAULT_KEY, model="m", timeout_first_byte=0.2, max_retries=0
        )
        plan.arm("stall")
        status = await provider.check()
        assert not status.ok and "no answer within 0.2 s" in status.summary
        assert status.hint and "timeout_first_byte" in status.hint
        await provider.aclose()


async def test_custom_server_without_model_list_is_checked_by_generating() -> None:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def reply() -> dict[str, object]:
        message = {"role": "assistant", "content": "H"}
        return {"choices": [{"index": 0, "message": message, "finish_reason": "length"}]}

    with serve(app) as url:
        provider = provider_for("custom", url, None, model="m")
        status = await provider.check()
        assert status.ok and "no model list" in status.summary
        await provider.aclose()
        provider = provider_for("custom", url, None)
        status = await provider.check()
        assert not status.ok and "404" in status.summary
        await provider.aclose()


async def test_probe_refused_for_its_key_reports_the_key() -> None:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def refuse() -> JSONResponse:
        body = {
            "error": {"message": "Incorrect API key provided: sk-***", "code": "invalid_api_key"}
        }
        return JSONResponse(body, status_code=401)

    with serve(app) as url:
        provider = provider_for("custom", url, "sk-secret-wrong-key-123", model="m")
        status = await provider.check()
        assert not status.ok and "401" in status.summary and status.details["kind"] == "AuthError"
        assert "sk-secret-wrong-key-123" not in f"{status.summary} {status.hint}"
        await provider.aclose()


# --- the usual text-only chunk taken without an event: the same as ``feed`` -------------

_TEXTS: list[object] = [None, "", "hi", 1, ["a"]]
_CHANGES: list[tuple[str, str, list[object]]] = [
    ("delta", "content", _TEXTS),
    ("delta", "reasoning", _TEXTS),
    ("delta", "reasoning_content", _TEXTS),
    ("choice", "index", [1, 0.0, False, None]),
    ("choice", "delta", [{}, None, "text"]),
    ("choice", "message", [{"content": "msg"}]),
    ("choice", "finish_reason", ["", "stop"]),
    ("chunk", "model", [None, "", "m2"]),
    ("chunk", "usage", [None, {"prompt_tokens": 3, "completion_tokens": 1}]),
    ("chunk", "error", [None, {}, {"message": "boom"}]),
    ("chunk", "citations", [None, ["u"]]),
    ("chunk", "choices", [None, [], "many", "other index"]),
]
_ONE_CHANGE = [(where, key, value) for where, key, values in _CHANGES for value in values]


def _usual_chunk(changes: list[tuple[str, str, object]]) -> dict[str, object]:
    """The usual text-only chunk with ``changes`` (where, key, value) made to it."""
    delta: dict[str, object] = {"content": "hi"}
    choice: dict[str, object] = {"index": 0, "delta": delta, "finish_reason": None}
    chunk: dict[str, object] = {"id": "c", "model": "m", "choices": [choice]}
    parts = {"delta": delta, "choice": choice, "chunk": chunk}
    for where, key, value in changes:
        parts[where][key] = value
    if chunk["choices"] == "many":
        chunk["choices"] = [choice, choice]
    elif chunk["choices"] == "other index":
        chunk["choices"] = [{**choice, "index": 1}]
    return chunk


def _outcome(step: Callable[[], object], parser: wire.StreamParser) -> object:
    try:
        result = step()
    except Exception as error:
        return type(error), str(error)
    events = ([TextDelta(result)] if result else []) if isinstance(result, str) else result
    return events, parser.model, parser.reason, parser.usage, parser.extra


def _same_as_feed(chunks: list[object], kept: frozenset[str] | None) -> None:
    fed, taken = wire.StreamParser("p", kept), wire.StreamParser("p", kept)
    for chunk in chunks:
        expected = _outcome(lambda c=chunk: fed.feed(c), fed)
        assert _outcome(lambda c=chunk: taken.take(c), taken) == expected, chunk


@pytest.mark.parametrize("kept", [None, frozenset({"citations"})])
@pytest.mark.parametrize("change", _ONE_CHANGE)
def test_take_gives_what_feed_gives(
    change: tuple[str, str, object], kept: frozenset[str] | None
) -> None:
    _same_as_feed([_usual_chunk([change]), _usual_chunk([])], kept)


@pytest.mark.parametrize("chunk", [None, 1, "text", ["choices"], {"choices": [None]}])
def test_take_raises_what_feed_raises(chunk: object) -> None:
    _same_as_feed([chunk], None)


@settings(max_examples=300, deadline=None)
@given(
    changes=st.lists(st.lists(st.sampled_from(_ONE_CHANGE), max_size=3), min_size=1, max_size=3),
    kept=st.sampled_from([None, frozenset({"citations"})]),
)
def test_take_gives_what_feed_gives_after_any_changes(
    changes: list[list[tuple[str, str, object]]], kept: frozenset[str] | None
) -> None:
    _same_as_feed([_usual_chunk(made) for made in changes], kept)


def test_take_gives_the_usual_chunk_as_text() -> None:
    parser = wire.StreamParser("p")
    chunk = {"model": "m", "choices": [{"index": 0, "delta": {"content": "hi"}}]}
    assert parser.take(chunk) == "hi" and parser.model == "m"
