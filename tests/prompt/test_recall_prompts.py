"""Recalled messages in the prompt (SillyTavern's ``3_vectors``), in both modes."""

from pytavern.prompt.assemble import assemble
from pytavern.prompt.inputs import Recall
from tests.prompt.test_summary_prompts import _input

FOUND = ("Ann: The key is in the well.", "Sera: I will fetch it at dawn.")


def test_recalled_messages_go_in_the_chat_at_their_depth_in_text_mode() -> None:
    text = assemble(_input("text", recall=Recall(FOUND, depth=1))).text
    assert text == (
        "Be Sera.\nSera guards the glade.\n***\nSera: Hello.\n"
        "Past events:\nAnn: The key is in the well.\n\nSera: I will fetch it at dawn."
        "\nAnn: Hey.\nSera:"
    )


def test_the_template_takes_macros_but_the_messages_are_sent_as_they_are() -> None:
    recall = Recall(("Ann: {{char}} is {{user}}'s friend.",), "{{char}} recalls:\n{{text}}", 0)
    sent = assemble(_input("chat", recall=recall)).messages
    recalled = [m.content for m in sent if "recalls" in m.content]
    assert recalled == ["Sera recalls:\nAnn: {{char}} is {{user}}'s friend."]


def test_a_template_without_the_placeholder_gets_the_messages_after_it() -> None:
    recall = Recall(FOUND, template="Earlier:", position=2)
    text = assemble(_input("text", recall=recall)).text or ""
    assert text.startswith("Earlier:\n" + "\n\n".join(FOUND) + "\nBe Sera.")
    assert "Earlier" not in (assemble(_input("text", recall=Recall(()))).text or "")
