"""Keep the fakes honest: the official SDKs talk to them, streaming and not."""

from __future__ import annotations

import anthropic
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from tests.fakes import anthropic_fake, gemini_fake, openai_fake
from tests.providers.chat_helpers import fake


def test_openai_sdk() -> None:
    with fake(openai_fake.create_app) as (url, plan):
        client = openai.OpenAI(api_key=openai_fake.DEFAULT_KEY, base_url=f"{url}/v1")
        assert [m.id for m in client.models.list()] == list(openai_fake.MODELS)
        messages = [{"role": "user", "content": "hi there"}]
        reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
        assert reply.choices[0].message.content == "Echo: hi there"
        assert reply.usage is not None and reply.usage.completion_tokens == 3
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=messages,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == "Echo: hi there" and chunks[-1].usage is not None
        bad = openai.OpenAI(api_key="sk-wrong-key-123456", base_url=f"{url}/v1", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model="nope", messages=messages)  # type: ignore[arg-type]
        plan.arm("429")
        limited = openai.OpenAI(
            api_key=openai_fake.DEFAULT_KEY, base_url=f"{url}/v1", max_retries=0
        )
        with pytest.raises(openai.RateLimitError):
            limited.models.list()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_anthropic_sdk() -> None:
    with fake(anthropic_fake.create_app) as (url, plan):
        client = anthropic.Anthropic(api_key=anthropic_fake.DEFAULT_KEY, base_url=url)
        assert [m.id for m in client.models.list()] == list(anthropic_fake.MODELS)
        model = anthropic_fake.MODELS[0]
        messages = [{"role": "user", "content": "hey you"}]
        reply = client.messages.create(model=model, max_tokens=50, messages=messages)  # type: ignore[arg-type]
        assert reply.content[0].type == "text" and reply.content[0].text == "Echo: hey you"
        assert reply.stop_reason == "end_turn" and reply.usage.output_tokens == 3
        with client.messages.stream(model=model, max_tokens=50, messages=messages) as stream:  # type: ignore[arg-type]
            assert "".join(stream.text_stream) == "Echo: hey you"
            final = stream.get_final_message()
        assert final.stop_reason == "end_turn"
        bad_order = [{"role": "assistant", "content": "x"}]
        with pytest.raises(anthropic.BadRequestError, match="first message"):
            client.messages.create(model=model, max_tokens=5, messages=bad_order)  # type: ignore[arg-type]
        no_retry = anthropic.Anthropic(
            api_key=anthropic_fake.DEFAULT_KEY, base_url=url, max_retries=0
        )
        plan.arm("overloaded")
        with pytest.raises(anthropic.APIStatusError) as caught:
            no_retry.messages.create(model=model, max_tokens=5, messages=messages)  # type: ignore[arg-type]
        assert caught.value.status_code == 529
        plan.arm("error_in_stream")
        with pytest.raises(anthropic.APIStatusError, match="Overloaded"):  # noqa: SIM117
            with no_retry.messages.stream(model=model, max_tokens=50, messages=messages) as s:  # type: ignore[arg-type]
                list(s.text_stream)
        bad = anthropic.Anthropic(api_key="sk-ant-wrong", base_url=url, max_retries=0)
        with pytest.raises(anthropic.AuthenticationError):
            bad.models.list()


def test_google_genai_sdk() -> None:
    with fake(gemini_fake.create_app) as (url, plan):
        options = genai_types.HttpOptions(base_url=url)
        client = genai.Client(api_key=gemini_fake.DEFAULT_KEY, http_options=options)
        names = [m.name for m in client.models.list()]
        assert "models/gemini-2.5-flash" in names
        config = genai_types.GenerateContentConfig(
            system_instruction="Be terse", temperature=0.2, max_output_tokens=50
        )
        reply = client.models.generate_content(
            model="gemini-2.5-flash", contents="hello there", config=config
        )
        assert reply.text == "Echo: hello there"
        sent = plan.requests[-1]
        assert sent["headers"]["x-goog-api-key"] == gemini_fake.DEFAULT_KEY
        pieces = client.models.generate_content_stream(
            model="gemini-2.5-flash", contents="hello there"
        )
        assert "".join(p.text or "" for p in pieces) == "Echo: hello there"
        assert plan.requests[-1]["query"].get("alt") == "sse"
        plan.arm("blocked")
        blocked = client.models.generate_content(model="gemini-2.5-flash", contents="x")
        assert blocked.prompt_feedback is not None
        assert blocked.prompt_feedback.block_reason is not None
        with pytest.raises(genai_errors.ClientError) as caught:
            client.models.generate_content(model="gemini-0", contents="x")
        assert caught.value.code == 404
        bad = genai.Client(api_key="wrong", http_options=options)
        with pytest.raises(genai_errors.ClientError, match="API key not valid"):
            bad.models.generate_content(model="gemini-2.5-flash", contents="x")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_anthropic_sdk_counts_tokens() -> None:
    with fake(anthropic_fake.create_app) as (url, _plan):
        client = anthropic.Anthropic(api_key=anthropic_fake.DEFAULT_KEY, base_url=url)
        model = anthropic_fake.MODELS[0]
        messages = [{"role": "user", "content": "three little words"}]
        counted = client.messages.count_tokens(model=model, messages=messages, system="Be kind")  # type: ignore[arg-type]
        assert counted.input_tokens == anthropic_fake.OVERHEAD + 3 + 2
        reply = client.messages.create(model=model, max_tokens=50, messages=messages)  # type: ignore[arg-type]
        assert reply.usage.input_tokens == anthropic_fake.OVERHEAD + 3
        no_retry = anthropic.Anthropic(
            api_key=anthropic_fake.DEFAULT_KEY, base_url=url, max_retries=0
        )
        with pytest.raises(anthropic.BadRequestError, match="max_tokens"):
            no_retry.messages.count_tokens(
                model=model,
                messages=messages,  # type: ignore[arg-type]
                extra_body={"max_tokens": 5},
            )
        with pytest.raises(anthropic.NotFoundError):
            no_retry.messages.count_tokens(model="claude-0", messages=messages)  # type: ignore[arg-type]


def test_google_genai_sdk_counts_tokens() -> None:
    with fake(gemini_fake.create_app) as (url, plan):
        options = genai_types.HttpOptions(base_url=url)
        client = genai.Client(api_key=gemini_fake.DEFAULT_KEY, http_options=options)
        counted = client.models.count_tokens(
            model="gemini-2.5-flash", contents="four words right here"
        )
        assert counted.total_tokens == 4
        assert plan.requests[-1]["path"].endswith("/models/gemini-2.5-flash:countTokens")
        with pytest.raises(genai_errors.ClientError) as caught:
            client.models.count_tokens(model="gemini-0", contents="x")
        assert caught.value.code == 404
