"""The chat's summary in the prompt (SillyTavern's ``1_memory``) and quiet generations."""

from pytavern.formats.cards import new_card
from pytavern.formats.presets import load_bundled
from pytavern.prompt.assemble import (
    HistoryMessage,
    Persona,
    PromptInput,
    PromptSettings,
    TextSettings,
    assemble,
)
from pytavern.prompt.inputs import ChatSettings, Summary
from pytavern.prompt.macros import MacroContext
from pytavern.prompt.tokens import CharRatioTokenizer

CARD = new_card("Sera", description="{{char}} guards the glade.")
HISTORY = [HistoryMessage(False, "Sera", "Hello."), HistoryMessage(True, "Ann", "Hey.")]
SUMMARY = "Ann met Sera at the glade."
ASK = "Summarize the story so far in {{char}}'s world."


def _input(mode: str, instruct: str | None = None, **kw: object) -> PromptInput:
    settings = PromptSettings(
        mode=mode,  # type: ignore[arg-type]
        system_prompt="Be {{char}}.",
        chat=ChatSettings(main_prompt="Be {{char}}.", assistant_prefill="Sera:"),
        text=TextSettings(
            instruct=load_bundled("instruct", instruct) if instruct else None,
            context=load_bundled("context", "Default"),
        ),
    )
    summary = kw.pop("summary", None)
    return PromptInput(
        card=CARD,
        history=HISTORY,
        tokenizer=CharRatioTokenizer(),
        persona=Persona("Ann", ""),
        settings=settings,
        summary=summary,  # type: ignore[arg-type]
        macros=MacroContext(extra={"summary": summary.text}) if summary else MacroContext(),
        **kw,  # type: ignore[arg-type]
    )


def test_summary_goes_where_its_position_says_in_text_mode() -> None:
    after = assemble(_input("text", summary=Summary(SUMMARY))).text or ""
    assert after.startswith("Be Sera.\nSera guards the glade.\n\n[Summary: " + SUMMARY + "]\n")
    before = assemble(_input("text", summary=Summary(SUMMARY, position=2))).text or ""
    assert before.startswith("[Summary: " + SUMMARY + "]\nBe Sera.")
    in_chat = assemble(_input("text", summary=Summary(SUMMARY, position=1, depth=1))).text
    assert in_chat == (
        "Be Sera.\nSera guards the glade.\n***\nSera: Hello.\n[Summary: "
        + SUMMARY
        + "]\nAnn: Hey.\nSera:"
    )
    nowhere = assemble(_input("text", summary=Summary(SUMMARY, position=-1))).text or ""
    assert SUMMARY not in nowhere
    assert SUMMARY not in (assemble(_input("text", summary=Summary("  "))).text or "")


def test_summary_template_takes_macros_and_sits_by_the_main_prompt_in_chat_mode() -> None:
    summary = Summary(SUMMARY, template="{{char}} remembers: {{summary}}")
    built = assemble(_input("chat", summary=summary))
    contents = [m.content for m in built.messages]
    assert contents[:2] == ["Be Sera.", "Sera remembers: " + SUMMARY]
    assert any(part.name == "main" for part in built.breakdown.parts)


def test_quiet_generation_asks_after_the_history_with_no_prefill() -> None:
    built = assemble(_input("chat", generation_type="quiet", quiet_prompt=ASK))
    assert built.messages[-1].role == "system"
    assert built.messages[-1].content == "Summarize the story so far in Sera's world."
    assert built.messages[-2].content == "Hey."
    assert built.prefill is None
    normal = assemble(_input("chat"))
    assert normal.prefill == "Sera:"
    assert all(ASK not in m.content for m in normal.messages)


def test_quiet_generation_in_text_mode_ends_with_no_name() -> None:
    plain = assemble(_input("text", generation_type="quiet", quiet_prompt=ASK)).text or ""
    assert plain.endswith("Ann: Hey.\nSummarize the story so far in Sera's world.\n")
    chatml = assemble(_input("text", "ChatML", generation_type="quiet", quiet_prompt=ASK)).text
    assert chatml is not None
    assert chatml.endswith(
        "<|im_start|>system\nSummarize the story so far in Sera's world.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert "assistant\nSera:" not in chatml[-40:]
