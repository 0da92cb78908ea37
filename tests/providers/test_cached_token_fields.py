"""Cached and reasoning token counts read from OpenAI, DeepSeek and Gemini usage fields."""

from __future__ import annotations

from pytavern.providers import _gemini_wire, _openai_wire
from pytavern.types import Usage


def test_openai_cached_and_reasoning_tokens() -> None:
    chunk = {
        "usage": {
            "prompt_tokens": 2006,
            "completion_tokens": 300,
            "prompt_tokens_details": {"cached_tokens": 1920},
            "completion_tokens_details": {"reasoning_tokens": 128},
        }
    }
    assert _openai_wire.usage_from(chunk) == Usage(
        2006, 300, cached_tokens=1920, reasoning_tokens=128
    )


def test_deepseek_cache_hits_and_plain_usage() -> None:
    chunk = {
        "usage": {
            "prompt_tokens": 500,
            "completion_tokens": 20,
            "prompt_cache_hit_tokens": 448,
            "prompt_cache_miss_tokens": 52,
        }
    }
    assert _openai_wire.usage_from(chunk) == Usage(500, 20, cached_tokens=448)
    plain = _openai_wire.usage_from({"usage": {"prompt_tokens": 5, "completion_tokens": 1}})
    assert plain == Usage(5, 1) and plain.to_dict() == {"input_tokens": 5, "output_tokens": 1}


def test_gemini_cached_content_and_thoughts() -> None:
    parser = _gemini_wire.StreamParser("g")
    meta = {
        "promptTokenCount": 1200,
        "candidatesTokenCount": 40,
        "thoughtsTokenCount": 60,
        "cachedContentTokenCount": 1024,
    }
    parser.feed({"candidates": [], "usageMetadata": meta})
    assert parser.usage == Usage(1200, 100, cached_tokens=1024, reasoning_tokens=60)


def test_counts_a_backend_got_wrong_are_unknown_not_kept() -> None:
    chunk = {
        "usage": {
            "prompt_tokens": "2006",
            "completion_tokens": 300.0,
            "prompt_tokens_details": {"cached_tokens": -1},
            "completion_tokens_details": {"reasoning_tokens": True},
        }
    }
    assert _openai_wire.usage_from(chunk) == Usage(None, 300)
    assert Usage(1.5, 7, cache_write_tokens=[3]) == Usage(None, 7)  # type: ignore[arg-type]
