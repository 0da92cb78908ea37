"""``Provider.count_tokens`` of the chat providers: Claude's and Gemini's count endpoints
(their fakes count one token a word), and ``None`` from backends that cannot count."""

from __future__ import annotations

import pytest

from pytavern.errors import AuthError, UpstreamNotFoundError, UpstreamServerError
from tests.fakes import anthropic_fake, gemini_fake, ollama, openai_fake
from tests.providers.chat_helpers import fake, provider_for


async def test_claude_counts_a_text_without_the_body_overhead() -> None:
    with fake(anthropic_fake.create_app) as (url, plan):
        provider = provider_for("claude", url, anthropic_fake.DEFAULT_KEY, model="claude-haiku-4-5")
        assert await provider.count_tokens("one two three") == 3
        assert await provider.count_tokens("four five six seven") == 4
        assert await provider.count_tokens("") == 0
        assert await provider.count_tokens("  \n ") == 0
        counts = [r for r in plan.requests if r["path"] == "/v1/messages/count_tokens"]
        assert len(counts) == 4  # the overhead is measured once, then one request a text
        first, second = counts[0]["body"], counts[1]["body"]
        assert first == {
            "model": "claude-haiku-4-5",
            "messages": [{"role": "user", "content": "."}],
        }
        assert second["messages"] == [{"role": "user", "content": "one two three"}]
        assert counts[-1]["body"]["messages"][0]["content"] == ".  \n "
        assert counts[0]["headers"]["x-api-key"] == anthropic_fake.DEFAULT_KEY
        assert counts[0]["headers"]["anthropic-version"]
        await provider.aclose()


async def test_claude_count_errors_are_the_usual_ones_without_the_key() -> None:
    with fake(anthropic_fake.create_app) as (url, plan):
        unknown = provider_for("claude", url, anthropic_fake.DEFAULT_KEY, model="claude-0")
        with pytest.raises(UpstreamNotFoundError):
            await unknown.count_tokens("hi")
        wrong = "sk-ant-wrong-key-98765"
        refused = provider_for("claude", url, wrong, model="claude-haiku-4-5")
        with pytest.raises(AuthError) as caught:
            await refused.count_tokens("hi")
        assert wrong not in str(caught.value) and wrong not in (caught.value.hint or "")
        plan.tokenize_fault = "500"
        failing = provider_for("claude", url, anthropic_fake.DEFAULT_KEY, model="claude-haiku-4-5")
        with pytest.raises(UpstreamServerError):
            await failing.count_tokens("hi")
        for provider in (unknown, refused, failing):
            await provider.aclose()


async def test_gemini_counts_a_text_as_one_user_turn() -> None:
    with fake(gemini_fake.create_app) as (url, plan):
        provider = provider_for("gemini", url, gemini_fake.DEFAULT_KEY, model="gemini-2.5-flash")
        assert await provider.count_tokens("a b c") == 3
        assert await provider.count_tokens("   ") == 0  # the answer leaves a zero count out
        sent = plan.requests[0]
        assert sent["path"] == "/v1beta/models/gemini-2.5-flash:countTokens"
        assert sent["body"] == {"contents": [{"role": "user", "parts": [{"text": "a b c"}]}]}
        assert sent["headers"]["x-goog-api-key"] == gemini_fake.DEFAULT_KEY
        assert "key" not in sent["query"]
        unknown = provider_for("gemini", url, gemini_fake.DEFAULT_KEY, model="gemini-0")
        with pytest.raises(UpstreamNotFoundError):
            await unknown.count_tokens("hi")
        await provider.aclose()
        await unknown.aclose()


async def test_backends_without_a_tokenizer_say_so_without_asking() -> None:
    with fake(openai_fake.create_app) as (url, plan):
        provider = provider_for("openai", f"{url}/v1", openai_fake.DEFAULT_KEY, model="gpt-4o-mini")
        assert await provider.count_tokens("hello there") is None
        await provider.aclose()
        assert plan.requests == []
    with fake(ollama.create_app) as (url, plan):
        provider = provider_for("ollama", url, None, model="llama3.2:3b")
        assert await provider.count_tokens("hello there") is None
        await provider.aclose()
        assert plan.requests == []
