"""A chat's summary (SillyTavern's Summarize extension, its "memory").

The summary is made by a ``summarize`` turn: the chat's usual prompt with the summary
prompt after the history, answered by the chat's connection and kept in the chat's
metadata (``summary``) instead of as a message; a turn cut short keeps the summary there
was. Every later turn puts it in the prompt where the settings say (``SummarySettings``),
and ``{{summary}}`` stands for it in any prompt text. The user may edit it (chat options).
SillyTavern keeps it in the ``extra.memory`` of the newest message it covers: chat files
are read and written that way too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pytavern.engine.preferences import SummarySettings
from pytavern.prompt.common import BEFORE_PROMPT, IN_CHAT, IN_PROMPT
from pytavern.prompt.inputs import Summary
from pytavern.prompt.worldinfo import ROLES
from pytavern.store import MessageRecord

METADATA_KEY = "summary"
KEPT_SUMMARIES = 5
"""A chat's summary and the ones before it kept in its metadata (see ``summary_entry``)."""
POSITIONS = {
    "in_prompt": IN_PROMPT,
    "in_chat": IN_CHAT,
    "before_prompt": BEFORE_PROMPT,
    "none": -1,
}
"""Where a setting's ``position`` puts its text, as the prompt builder codes it (recall
takes the same, ``none`` aside)."""


def summary_text(metadata: dict[str, Any]) -> str:
    """The chat's summary ("" when it has none)."""
    entry = metadata.get(METADATA_KEY)
    text = entry.get("text") if isinstance(entry, dict) else None
    return text if isinstance(text, str) else ""


def summary_at(metadata: dict[str, Any]) -> int:
    """How many messages the chat had when its summary was made or edited (0: none)."""
    entry = metadata.get(METADATA_KEY)
    return _made_with(entry) if isinstance(entry, dict) else 0


def summary_due(metadata: dict[str, Any], message_count: int, every: int) -> bool:
    """Whether a chat of ``message_count`` messages has had ``every`` new ones since its
    summary was made (``every`` 0: summaries are made only when asked for)."""
    return every > 0 and message_count - summary_at(metadata) >= every


def _made_with(summary: dict[str, Any]) -> int:
    """How many messages the chat had when ``summary`` was made (0: unknown)."""
    count = summary.get("message_count")
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


def summary_entry(
    text: str,
    message_count: int,
    *,
    message_id: int | None = None,
    replacing: object = None,
    edited: bool = False,
) -> dict[str, Any]:
    """The metadata value that keeps ``text`` as the chat's summary, made when the chat had
    ``message_count`` messages, the newest ``message_id``. The summary it is ``replacing``
    (the metadata value there was) is kept behind it (``previous``, newest first, at most
    ``KEPT_SUMMARIES``): deleting the message a summary was made at brings the one before
    back, as SillyTavern's memories, kept on the messages, do."""
    chain = _chain(replacing)[: KEPT_SUMMARIES - 1]
    return {
        "text": text.strip(),
        "message_count": message_count,
        "message_id": message_id,
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "edited": edited,
        "previous": [_single(entry) for entry in chain],
    }


def summary_after_deleting(
    metadata: dict[str, Any], message: MessageRecord
) -> dict[str, Any] | None:
    """The chat's summary once ``message`` is deleted: a summary made at that message goes,
    and the newest one left (if any) is the chat's again. Returns the metadata value to
    store (``None``: no summary), or the one there is when unchanged."""
    entry = metadata.get(METADATA_KEY)
    chain = _chain(entry)
    made_at_message = _places([message])
    kept = [e for e in chain if made_at_message(e) is None]
    if len(kept) == len(chain):
        return entry if isinstance(entry, dict) else None
    if not kept:
        return None
    return {**_single(kept[0]), "previous": [_single(e) for e in kept[1:]]}


def summary_for_copy(
    entry: object, originals: Sequence[MessageRecord], copies: Sequence[int]
) -> dict[str, Any] | None:
    """The summary value for a copy of a chat's first messages (a branch): the newest of its
    summaries made at a copied message, with those kept behind it, their messages now the
    copies (``originals[i]`` became message ``copies[i]``); ``None`` when none was."""
    kept = []
    place = _places(originals)
    for summary in _chain(entry):
        at = place(summary)
        if at is not None and at < len(copies):
            kept.append(_single(summary) | {"message_id": copies[at], "position": None})
    if not kept:
        return None
    return {**kept[0], "previous": kept[1:]}


def _places(messages: Sequence[MessageRecord]) -> Callable[[dict[str, Any]], int | None]:
    """Where in ``messages`` a summary was made, its index (``None``: not among them): by
    the message's id, or for one read from a chat file (made before the messages had ids)
    by the message's place in the chat."""
    by_id = {m.id: i for i, m in enumerate(messages)}
    by_position = {m.position: i for i, m in enumerate(messages)}

    def place(summary: dict[str, Any]) -> int | None:
        made_at = summary.get("message_id")
        if made_at is not None:
            return by_id.get(made_at)
        return by_position.get(summary.get("position"))  # type: ignore[arg-type]

    return place


def _chain(entry: object) -> list[dict[str, Any]]:
    """A summary value and the ones kept behind it, newest first."""
    if not isinstance(entry, dict):
        return []
    previous = entry.get("previous")
    older = [e for e in previous if isinstance(e, dict)] if isinstance(previous, list) else []
    return [entry, *older]


def _single(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "previous"}


def summary_input(metadata: dict[str, Any], settings: SummarySettings) -> Summary | None:
    """The summary as the prompt builder takes it, or ``None`` when the chat has none."""
    text = summary_text(metadata)
    if not text.strip():
        return None
    return Summary(
        text=text,
        template=settings.template,
        position=POSITIONS[settings.position],
        depth=settings.depth,
        role=ROLES.index(settings.role),
    )


def summary_prompt(settings: SummarySettings) -> str:
    """The instruction a ``summarize`` turn answers (``{{words}}``: the word limit)."""
    return settings.prompt.replace("{{words}}", str(settings.words))


def summary_from_lines(extras: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The summaries a SillyTavern chat file carries, in the ``extra.memory`` of the lines
    they were made at, as the metadata value: the newest is the chat's, the ones before it
    kept behind it (at most ``KEPT_SUMMARIES``); ``None`` when no line has one."""
    found: list[dict[str, Any]] = []
    for index in range(len(extras) - 1, -1, -1):
        memory = extras[index].get("memory")
        if isinstance(memory, str) and memory.strip():
            entry = summary_entry(memory, index + 1)
            found.append(_single(entry) | {"position": index})
            if len(found) == KEPT_SUMMARIES:
                break
    if not found:
        return None
    return {**found[0], "previous": found[1:]}


def put_summary_in_lines(
    metadata: dict[str, Any], lines: list[dict[str, Any]], messages: Sequence[MessageRecord]
) -> None:
    """Write the chat's summaries where SillyTavern looks for them: the ``extra.memory`` of
    the message each was made at (``messages[i]`` is ``lines[i]``'s message), the older
    first; the chat's own summary goes on the newest line it covers when its message is
    unknown or gone (the last line when the chat has shrunk since)."""
    if not lines:
        return
    chain = _chain(metadata.get(METADATA_KEY))
    place = _places(messages)
    for depth in range(len(chain) - 1, -1, -1):
        summary = chain[depth]
        text = summary.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        at = place(summary)
        if at is None and depth == 0:
            at = min(max(_made_with(summary), 1), len(lines)) - 1
        if at is not None and at < len(lines):
            extra = lines[at].get("extra")
            lines[at]["extra"] = {**(extra if isinstance(extra, dict) else {}), "memory": text}
