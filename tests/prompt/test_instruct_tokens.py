import pytest

from pytavern.formats.presets import load_bundled
from pytavern.prompt.instruct import (
    clean_output,
    format_chat,
    instruct_stop_strings,
    trim_to_end_sentence,
)
from pytavern.prompt.tokens import (
    CachedTokenizer,
    CharRatioTokenizer,
    OpenAITokenizer,
    openai_encoding,
)


def test_clean_output_stop_strings_and_partial_suffix():
    stop = ["\nAnn:", "<|im_end|>"]
    assert clean_output("Hi there.\nAnn: hello", stop=stop, user="Ann", char="Sera") == "Hi there."
    assert clean_output("Hi there.<|im_", stop=stop, user="Ann", char="Sera") == "Hi there."
    assert clean_output("Hi there.\nAn", stop=stop, user="Ann", char="Sera") == "Hi there."
    assert clean_output("Ann: x", stop=[], user="Ann", char="Sera") == ""
    assert clean_output("ok<|endoftext|>junk", stop=[], user="Ann", char="Sera") == "ok"


def test_clean_output_leaked_sequences_and_leading_name():
    chatml = load_bundled("instruct", "ChatML")
    out = clean_output(
        "Sera: Hello!<|im_start|>assistant\nmore", stop=[], user="Ann", char="Sera", instruct=chatml
    )
    assert out == "Hello!\nmore"  # leaked sequence removed, as SillyTavern does
    stop = instruct_stop_strings(chatml, "Ann", "Sera")
    out = clean_output(
        "Hello!\n<|im_start|>user\nx", stop=stop, user="Ann", char="Sera", instruct=chatml
    )
    assert out == "Hello!"
    l3 = load_bundled("instruct", "Llama 3 Instruct")
    out = clean_output(
        "Fine.<|eot_id|><|start_header_id|>user", stop=[], user="A", char="S", instruct=l3
    )
    assert out == "Fine."
    assert clean_output("  Ann: hi  ", stop=[], user="Ann", char="Sera", impersonate=True) == (
        "Ann: hi"
    )


def test_format_chat_names_and_wrap():
    alpaca = load_bundled("instruct", "Alpaca")
    assert format_chat(alpaca, name="Sera", text="x", is_user=False, user="Ann", char="Sera") == (
        "### Response:\nx\n\n"
    )
    assert (
        format_chat(
            alpaca, name="Bob", text="x", is_user=False, user="Ann", char="Sera", force_names=True
        )
        == "### Response:\nBob: x\n\n"
    )
    narrator = format_chat(
        load_bundled("instruct", "ChatML"),
        name="Sera",
        text="n",
        is_user=False,
        user="Ann",
        char="Sera",
        is_narrator=True,
    )
    assert narrator == "<|im_start|>system\nn<|im_end|>\n"


def test_instruct_stop_strings_skip_whitespace_only():
    assert instruct_stop_strings(load_bundled("instruct", "Vicuna 1.1"), "A", "S") == [
        "USER: ",
        "ASSISTANT: ",
    ]


def test_tokenizers():
    exact = OpenAITokenizer("cl100k_base")
    assert exact.count("Hello world") == 2
    assert exact.count("<|im_end|>") > 1  # special-token text is counted as plain text
    assert OpenAITokenizer.for_model("gpt-4o").encoding == "o200k_base"
    est = CharRatioTokenizer()
    assert est.count("a" * 67) == 20 and est.count("") == 0
    sample = "The quick brown fox jumps over the lazy dog. " * 20
    measured = CharRatioTokenizer.measured(exact, sample)
    assert abs(measured.count(sample) - exact.count(sample)) <= 1
    cached = CachedTokenizer(exact, max_entries=2)
    for text in ("a", "b", "a", "c", "a"):
        cached.count(text)
    assert cached.hits == 2 and cached.misses == 3


@pytest.mark.parametrize(
    ("reply", "trimmed"),
    [
        ("Hello, world! I am from", "Hello, world!"),
        ("She waves. *smiles", "She waves."),
        ('"Come in," she said. The door', '"Come in," she said.'),
        ("He nods *", "He nods"),
        ("Good night 🌙 and", "Good night 🌙"),
        ("no sentence end at all  ", "no sentence end at all"),
        ("全部です。そして", "全部です。"),
        ("", ""),
    ],
)
def test_trim_to_end_sentence_matches_sillytavern(reply: str, trimmed: str) -> None:
    assert trim_to_end_sentence(reply) == trimmed


def test_openai_encoding_is_decided_without_loading_a_table() -> None:
    assert openai_encoding("gpt-4o-mini", openai_api=False) == "o200k_base"
    assert openai_encoding("openai/gpt-4.1", openai_api=False) == "o200k_base"
    assert openai_encoding("gpt-4-0613", openai_api=False) == "cl100k_base"
    assert openai_encoding("gpt-3.5-turbo", openai_api=False) == "cl100k_base"
    # another vendor's model on an OpenAI-style API: the learned estimate counts it
    assert openai_encoding("meta-llama/llama-3.1-8b", openai_api=False) is None
    # OpenAI's own API: a model newer than the list is counted with the newest encoding
    assert openai_encoding("some-new-model", openai_api=True) == "o200k_base"
