"""The shape of a stream's usual chunk: its characters around the text, learnt from one.

A Chat Completions stream sends one JSON object per token, and all of the object but its
text is usually the same from one chunk to the next (id, created, model, a ``null``
finish_reason...). A ``ChunkShape`` keeps what comes before and after the text's JSON
string in one chunk. A later chunk made of those same characters around one JSON string
is that chunk with another text: a JSON string is a single token, so what precedes it
and what follows it parse as they did. Its text is then that string's value, one
``orjson.loads`` of the string alone, with nothing else in the chunk read again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

_TEXT_STRING = re.compile(r'"content"\s*:\s*("(?:[^"\\]|\\.)*")')
"""A ``content`` key and its JSON string value (the value's span is group 1)."""


@dataclass(frozen=True, slots=True)
class ChunkShape:
    """A chunk's characters before and after its text's JSON string, and the notes its
    reading takes (``model``, ``finish_reason``: the same for every chunk of this shape)."""

    before: str
    after: str
    model: str | None
    reason: str | None

    def read_run(self, payloads: list[str], start: int, texts: list[str]) -> int:
        """Add the text of each payload from ``start`` on that has this shape to ``texts``
        (none when empty); return the index of the first that has not, or
        ``len(payloads)``."""
        before, after = self.before, self.after
        head, tail = len(before), len(after)
        loads = orjson.loads
        for index in range(start, len(payloads)):
            payload = payloads[index]
            if not (payload.startswith(before) and payload.endswith(after)):
                return index
            try:
                text = loads(payload[head : len(payload) - tail])
            except ValueError:
                return index
            if type(text) is not str:
                return index
            if text:
                texts.append(text)
        return len(payloads)


def learn_shape(
    payload: str, data: dict[str, Any], text: str, text_of: Callable[[Any], str | None]
) -> ChunkShape | None:
    """The shape of ``payload`` (parsed: ``data``), a chunk that ``text_of`` reads as
    ``text``, or ``None`` when no ``content`` string in it is that text. Each candidate is
    checked by a probe: the chunk with another string in its place must read as that
    string (so a ``content`` elsewhere, or one a later duplicate key overrides, is not
    taken). ``text_of`` must note nothing but what ``ChunkShape`` keeps."""
    probe_text = text + "\x01"
    probe = orjson.dumps(probe_text).decode()
    for match in _TEXT_STRING.finditer(payload):
        start, end = match.span(1)
        before, after = payload[:start], payload[end:]
        try:
            probed = orjson.loads(before + probe + after)
        except ValueError:
            continue
        if text_of(probed) == probe_text:
            return ChunkShape(before, after, *_notes(data))
    return None


def _notes(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """A usual chunk's model and finish reason (``None`` when empty or absent)."""
    choice = data["choices"][0]
    return data.get("model") or None, choice.get("finish_reason") or None
