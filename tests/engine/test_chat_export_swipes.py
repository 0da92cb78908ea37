"""A SillyTavern chat's swipes come back out of an export as they went in (one read of the
chat's swipes, not one per message)."""

from __future__ import annotations

import json
from typing import Any

from pytavern.engine import Engine, transfer


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(line) for line in lines).encode()


def swiped_chat(tag: str) -> list[dict[str, Any]]:
    return [
        {"user_name": "You", "character_name": "Sera", "create_date": "2024-01-01@10h00m00s"},
        {"name": "You", "is_user": True, "send_date": "x", "mes": f"hi {tag}"},
        {
            "name": "Sera",
            "is_user": False,
            "send_date": "x",
            "mes": f"second {tag}",
            "swipe_id": 1,
            "swipes": [f"first {tag}", f"second {tag}", f"third {tag}"],
        },
        {"name": "You", "is_user": True, "send_date": "x", "mes": f"again {tag}"},
        {
            "name": "Sera",
            "is_user": False,
            "send_date": "x",
            "mes": f"only {tag}",
            "swipe_id": 0,
            "swipes": [f"only {tag}"],
        },
        {"name": "Sera", "is_user": False, "send_date": "x", "mes": f"plain {tag}"},
    ]


async def test_every_message_keeps_its_swipes_and_the_one_shown(engine: Engine) -> None:
    character = engine.store.list_characters()[0].id
    chats = {
        tag: transfer.import_chat(engine.store, jsonl(swiped_chat(tag)), f"{tag}.jsonl", character)
        for tag in ("a", "b")
    }
    for tag, chat in chats.items():
        exported = [
            json.loads(line) for line in transfer.export_chat(engine.store, chat.id).split(b"\n")
        ]
        for sent, back in zip(swiped_chat(tag)[1:], exported[1:], strict=True):
            assert back["mes"] == sent["mes"]
            assert back.get("swipes") == sent.get("swipes")
            assert back.get("swipe_id") == sent.get("swipe_id")
