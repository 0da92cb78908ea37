"""Appends noted in the turn journal first and committed after (``turn_journal``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from pytavern.errors import NotFoundError
from pytavern.store.queries import Queries, QueriesMixin, check_swipe_fields
from pytavern.store.records import AddedMessage, MessageRecord
from pytavern.store.schema import utcnow
from pytavern.store.turn_journal import (
    NotedWrite,
    abandoned_journal,
    journals_of,
)

log = logging.getLogger(__name__)

InTransaction = Callable[[Queries], object]
"""Statements run in a committing write's transaction, after its messages."""


class NotedWritesMixin(QueriesMixin):
    """Writes a client may be shown before they commit, kept in the journal till then."""

    def note_append(self, chat_id: int, messages: Sequence[AddedMessage]) -> NotedWrite | None:
        """Note messages to add at the end of a chat, for ``commit_noted`` to commit once
        their text is out; ``None`` when they must be written at once (no journal, or it
        could not be written)."""
        journal = self.journal
        if journal is None:
            return None
        for message in messages:
            check_swipe_fields(message.swipe_fields)
        noted = NotedWrite(chat_id, self.owner_id, tuple(messages), utcnow())
        try:
            journal.note(noted)
        except OSError as exc:
            log.warning("the turn journal could not be written (%s): writing at once", exc)
            return None
        return noted

    def commit_noted(
        self,
        noted: NotedWrite,
        messages: Sequence[AddedMessage] | None = None,
        then: InTransaction | None = None,
    ) -> list[MessageRecord]:
        """Commit a noted write, with ``messages`` in place of the noted ones when given
        (the reply's newer text) and ``then`` in its transaction. A chat that has gone
        takes the noted write with it (``NotFoundError``); another error leaves it
        noted, for a later call or the next opener of the database."""
        assert self.journal is not None  # only a journal notes writes
        try:
            with self.queries() as queries:
                added = queries.append_messages(
                    noted.chat_id, messages or noted.messages, at=noted.at
                )
                if then is not None:
                    then(queries)
        except NotFoundError:
            self.journal.settled(noted)
            raise
        self.journal.settled(noted)
        return added

    def replay_journals(self) -> int:
        """Commit what the journals of processes that have gone noted and did not
        commit; the number of writes committed (run when the database is opened)."""
        if self.journal is None:
            return 0
        committed = 0
        for path in journals_of(self.journal.database):
            with abandoned_journal(path) as noted_writes:
                for noted in noted_writes or ():
                    try:
                        committed += self._replay(noted)
                    except (TypeError, ValueError) as exc:  # a line no store could take
                        log.warning("a noted write to chat %d was skipped: %s", noted.chat_id, exc)
        if committed:
            log.info("committed %d chat writes a stopped server had noted", committed)
        return committed

    def _replay(self, noted: NotedWrite) -> bool:
        try:
            with self.for_owner(noted.owner_id).queries() as queries:
                if queries.has_message_at(noted.chat_id, noted.at):
                    return False
                queries.append_messages(noted.chat_id, noted.messages, at=noted.at)
        except NotFoundError:
            return False  # the chat was deleted
        return True
