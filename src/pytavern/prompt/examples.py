"""Example dialogue (``mes_example``): split into ``<START>`` blocks and into turns."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ExampleTurn:
    """One turn of an example block; ``name`` is ``example_user`` or ``example_assistant``."""

    name: str
    content: str

    @property
    def is_user(self) -> bool:
        """Whether the user speaks this turn."""
        return self.name == "example_user"


def split_blocks(examples: str, block_heading: str) -> list[str]:
    """Split example text on ``<START>`` into blocks, each headed by ``block_heading``.

    Every block ends with a newline, as SillyTavern's ``parseMesExamples`` makes them.
    """
    if not examples or examples == "<START>":
        return []
    if not examples.startswith("<START>"):
        examples = "<START>\n" + examples.strip()
    parts = re.split(r"<START>", examples, flags=re.IGNORECASE)[1:]
    return [f"{block_heading}{part.strip()}\n" for part in parts]


def split_turns(block: str, user: str, char: str) -> list[ExampleTurn]:
    """Split one block into turns by ``User:``/``Char:`` line prefixes (first line skipped)."""
    block = re.sub(r"<START>", "{Example Dialogue:}", block, count=1, flags=re.IGNORECASE)
    lines = block.replace("\r", "").split("\n")
    turns: list[ExampleTurn] = []
    current: list[str] = []
    speaker: str | None = None
    for line in lines[1:]:
        who = "u" if line.startswith(user + ":") else "c" if line.startswith(char + ":") else None
        if who is not None and speaker is not None and who != speaker:
            turns.append(_turn(speaker, current, user, char))
            current = []
        if who is not None:
            speaker = who
        current.append(line)
    if speaker is not None:
        turns.append(_turn(speaker, current, user, char))
    return turns


def _turn(speaker: str, lines: list[str], user: str, char: str) -> ExampleTurn:
    name = user if speaker == "u" else char
    text = "\n".join(lines).replace(name + ":", "", 1).strip()
    return ExampleTurn("example_user" if speaker == "u" else "example_assistant", text)
