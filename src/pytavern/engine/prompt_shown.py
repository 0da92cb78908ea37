"""The prompt of a reply as the prompt view shows it: the text sent, or its chat messages."""

from __future__ import annotations

from typing import Any

from pytavern.prompt.inputs import BuiltPrompt

SHOWN_LIMIT = 200_000
"""At most this many characters are kept (the prompt view is for reading, not a backup)."""


def prompt_shown(built: BuiltPrompt) -> dict[str, Any]:
    """``{"text": ...}`` for a text-completion prompt, else ``{"messages": [{role, content}]}``."""
    if built.text is not None:
        return {"text": built.text[-SHOWN_LIMIT:]}
    messages: list[dict[str, str]] = []
    room = SHOWN_LIMIT
    for message in reversed(built.messages):
        if room <= 0:
            break
        content = message.content[-room:]
        room -= len(content)
        messages.append({"role": message.role, "content": content})
    messages.reverse()
    return {"messages": messages}
