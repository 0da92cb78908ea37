"""The count cache and the tokenizer that answers from it and records what it estimated."""

from __future__ import annotations

from pytavern.prompt.tokens import CharRatioTokenizer, CountCache, RecordingTokenizer


def test_count_cache_drops_the_least_recently_used() -> None:
    cache = CountCache(max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)


def test_recording_tokenizer_counts_exactly_what_it_holds_and_notes_the_rest() -> None:
    cache = CountCache()
    cache.put("known text here", 3)
    tokenizer = RecordingTokenizer(cache, CharRatioTokenizer(2.0))
    assert tokenizer.count("known text here") == 3
    assert tokenizer.count("abcdef") == 3  # estimated: 6 characters at 2 a token
    assert tokenizer.count("abcdef") == 3
    assert tokenizer.count("") == 0
    assert list(tokenizer.missed) == ["abcdef"]
    assert (tokenizer.exact, tokenizer.estimated) == (1, 2)
