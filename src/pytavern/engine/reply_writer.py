"""Writing a reply to the store while it streams.

The reply is inserted, marked ``incomplete``, as soon as its first text arrives, then
updated at most every ``FLUSH_SECONDS`` and once more when the stream ends. So a stop, an
upstream error, a lost client or even a killed server leaves what had arrived in the chat,
marked incomplete; every write is one small transaction. A new message's first write is
noted in the store's turn journal before its text goes out and committed right after
(``first`` and ``settle``; ``pytavern.store.turn_journal``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytavern.events import Accumulator
from pytavern.store import AddedMessage, MessageRecord, Queries, Store, SwipeStatus
from pytavern.store.turn_journal import NotedWrite

Epilogue = Callable[[Queries], object]
"""Statements run in the last write's transaction, after the reply (the prompt's record)."""
OnWritten = Callable[[MessageRecord], None]
"""Told of each message a committed write returned, in the order they were written."""

FLUSH_SECONDS = 1.0
_ON_TARGET = ("continue", "regenerate", "swipe")
UNSAVED_MODES = ("impersonate", "summarize")
"""Turns whose answer is no chat message (the user's words to send; a summary, kept in the
chat's metadata)."""


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """Where a reply goes: a new message, a new swipe of one, or the end of one."""

    mode: str
    chat_id: int
    character_name: str
    connection: str
    message: MessageRecord | None = None


class ReplyWriter:
    """Persists one streaming reply: first insert, periodic updates, final state."""

    def __init__(
        self, store: Store, target: ReplyTarget, *, on_written: OnWritten | None = None
    ) -> None:
        """``on_written``: told of every message this writer's transactions committed."""
        self._store = store
        self._target = target
        self._on_written = on_written
        self._saved: MessageRecord | None = None
        self._noted: NotedWrite | None = None
        self._last_flush = 0.0

    @property
    def saved(self) -> MessageRecord | None:
        """The message as last written, if anything was."""
        return self._saved

    def first(self, accumulator: Accumulator, *, before: AddedMessage | None = None) -> bool:
        """The reply's first write (``progress``'s), noted in the store's turn journal when
        the reply is a new message and the store keeps one: ``settle`` commits it once its
        text is out, and a crash before that leaves it for the next opener to commit."""
        text = accumulator.text
        if self._target.mode in UNSAVED_MODES or not text or not self._appends():
            return self.progress(accumulator, before=before)
        reply = self._reply(text, "incomplete", {"connection": self._target.connection})
        noted = self._store.note_append(
            self._target.chat_id, [reply] if before is None else [before, reply]
        )
        if noted is None:
            return self.progress(accumulator, before=before)
        self._noted = noted
        self._last_flush = time.monotonic()
        return True

    def settle(self) -> None:
        """Commit the first write ``first`` noted, if one waits (its text is out now)."""
        if self._noted is not None:
            self._append(self._noted.messages[-1], None, None)

    def progress(self, accumulator: Accumulator, *, before: AddedMessage | None = None) -> bool:
        """Write the reply so far if it is new or the last write is old enough.

        ``before`` (the user's message) is added ahead of the reply in its first write (one
        transaction, one chat update for both); it is not written when nothing is (the
        answer says whether something was).
        """
        if self._target.mode in UNSAVED_MODES:
            return False
        now = time.monotonic()
        if self._saved is not None and now - self._last_flush < FLUSH_SECONDS:
            return False  # checked before joining the text: this runs for every chunk
        text = accumulator.text
        if not text:
            return False
        self._write(text, "incomplete", {}, before)
        self._last_flush = now
        return True

    def finish(
        self,
        accumulator: Accumulator,
        *,
        text: str,
        status: SwipeStatus,
        outcome: dict[str, Any],
        epilogue: Epilogue | None = None,
    ) -> MessageRecord | None:
        """Write the final (cleaned) text and how the generation ended.

        ``epilogue`` joins that write's transaction when it can (an update or an append),
        else runs in its own after it, or alone when there is nothing to write.
        """
        nothing = not text and self._saved is None and self._noted is None
        if self._target.mode in UNSAVED_MODES or nothing:
            self._alone(epilogue)
            return None
        fields = {
            "reasoning": accumulator.reasoning,
            "model": accumulator.model,
            "usage": accumulator.usage.to_dict(),
            **outcome,
        }
        try:
            self._write(text, status, fields, epilogue=epilogue)
        except Exception:
            if epilogue is None:
                raise
            self._write(text, status, fields)  # a failed epilogue never costs the reply
            raise
        return self._saved

    def _write(
        self,
        text: str,
        status: SwipeStatus,
        fields: dict[str, Any],
        before: AddedMessage | None = None,
        epilogue: Epilogue | None = None,
    ) -> None:
        fields = {"connection": self._target.connection, **fields}
        target = self._target.message
        if self._appends():
            self._append(self._reply(text, status, fields), before, epilogue)
            return
        if before is not None:
            with self._store.queries() as queries:
                (added,) = queries.append_messages(self._target.chat_id, [before])
            self._tell(added)
        if self._saved is None and self._target.mode != "continue" and target is not None:
            # a new swipe of the target (regenerate, swipe)
            self._saved = self._store.add_swipe(target.id, text=text, status=status, **fields)
            self._tell(self._saved)
            self._alone(epilogue)
            return
        with self._store.queries() as queries:
            self._saved = self._update(queries, text, status, fields)
            if epilogue is not None:
                epilogue(queries)
        self._tell(self._saved)

    def _update(
        self, queries: Queries, text: str, status: SwipeStatus, fields: dict[str, Any]
    ) -> MessageRecord:
        target = self._target.message
        if self._target.mode == "continue" and target is not None:
            return queries.update_swipe(
                target.id, target.active_swipe, text=target.text + text, status=status, **fields
            )
        assert self._saved is not None  # else the reply was appended or a swipe added
        return queries.update_written_swipe(self._saved, text=text, status=status, **fields)

    def _appends(self) -> bool:
        """Whether the next write adds the reply as a new message."""
        on_target = self._target.message is not None and self._target.mode in _ON_TARGET
        return self._saved is None and not on_target

    def _reply(self, text: str, status: SwipeStatus, fields: dict[str, Any]) -> AddedMessage:
        return AddedMessage("assistant", self._target.character_name, text, status, None, fields)

    def _append(
        self, reply: AddedMessage, before: AddedMessage | None, epilogue: Epilogue | None
    ) -> None:
        noted = self._noted
        if noted is not None:  # the noted first write, committed with the newer text
            added = self._store.commit_noted(noted, [*noted.messages[:-1], reply], epilogue)
            self._noted = None
        else:
            with self._store.queries() as queries:
                added = queries.append_messages(
                    self._target.chat_id, [reply] if before is None else [before, reply]
                )
                if epilogue is not None:
                    epilogue(queries)
        self._saved = added[-1]
        for record in added:
            self._tell(record)

    def _alone(self, epilogue: Epilogue | None) -> None:
        if epilogue is not None:
            with self._store.queries() as queries:
                epilogue(queries)

    def _tell(self, record: MessageRecord | None) -> None:
        if record is not None and self._on_written is not None:
            self._on_written(record)
