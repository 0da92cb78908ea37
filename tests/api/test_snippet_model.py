"""The snippet of issue 12, as written, against the built-in model (only the ``...`` filled in:
the data folder, a card file and a connection)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

import pytavern
from pytavern.api import Finished, StreamEvent, TextDelta
from pytavern.formats.cards import card_from_dict, write_card_png

pytestmark = pytest.mark.model


def test_the_issue_snippet_runs_as_written(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = card_from_dict({"name": "Moss", "first_mes": "Hello."})
    (tmp_path / "card.png").write_bytes(write_card_png(card, None))
    monkeypatch.chdir(tmp_path)
    pieces: list[str] = []

    with pytavern.open(data_dir=os.fspath(data_dir)) as tavern:
        chat = tavern.new_chat("Wren")
        reply = chat.send("Hello, who are you?")
        for piece in chat.stream("And then?"):
            pieces.append(piece)
        chat.regenerate(); chat.swipe(); chat.continue_()  # noqa: E702  # fmt: skip
        texts = [m.text for m in chat.messages]
        moss = tavern.characters.import_file("card.png")
        spare = tavern.connections.add("spare", "openai", url="http://127.0.0.1:9/v1")

    assert reply.text.strip() and reply.finish_reason in ("stop", "length")
    assert reply.usage.output_tokens and reply.message_id is not None
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert texts[1:4] == ["Hello, who are you?", reply.text, "And then?"]
    assert moss.name == "Moss" and spare.name == "spare" and not spare.is_default

    async def main() -> list[StreamEvent]:
        async with pytavern.open_async(data_dir=data_dir) as tavern:
            chat = await tavern.new_chat("Wren")
            reply = await chat.send("Hi")
            assert reply.text.strip()
            return [event async for event in chat.events("Hi")]

    events = asyncio.run(main())
    assert any(isinstance(e, TextDelta) for e in events)
    assert isinstance(events[-1], Finished) and events[-1].reason in ("stop", "length")
