"""The engine: the only place that composes store, prompt and providers.

Faces (CLI, server) call ``Engine``; it loads what a turn needs, streams from the provider
and persists the result.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import aclosing
from pathlib import Path

from pytavern.engine.connections import ProviderPool, connection_config, key_info
from pytavern.engine.generation import run_turn
from pytavern.engine.group_cards import GroupSpeaker
from pytavern.engine.groups import summary_speaker
from pytavern.engine.keep_warm import KeepWarm
from pytavern.engine.maintenance import backup_before_migration
from pytavern.engine.preferences import load_preferences
from pytavern.engine.profiles import apply_profile
from pytavern.engine.regex_scripts import user_input_applied
from pytavern.engine.routing import Route, RoutedStream
from pytavern.engine.setup import install_defaults
from pytavern.engine.storage import private_sqlite_file, secure_data_dir
from pytavern.engine.turn_loader import (
    GenerationMode,
    ParsedCache,
    TurnData,
    TurnRequest,
    load_persona,
    load_turn,
)
from pytavern.errors import PytavernError
from pytavern.events import StreamEvent
from pytavern.formats.cards import card_from_dict
from pytavern.prompt.macros import MacroContext, evaluate
from pytavern.providers.base import Provider
from pytavern.secrets import SecretStore
from pytavern.settings import Settings
from pytavern.store import ChatRecord, ConnectionRecord, Store
from pytavern.store.interrupted import marker_at_start
from pytavern.store.search import index_pending

__all__ = ["Engine", "GenerationMode", "connection_config", "key_info"]

log = logging.getLogger(__name__)

SEARCH_INDEX_EVERY = 256
"""Turns between two runs of ``index_pending`` (a search runs it first anyway): the texts
that SQLite's search index has not taken yet are indexed in one batch."""
SEARCH_INDEX_BATCH = 1024
"""The most texts one of those runs indexes (a few milliseconds on the event loop; twice
what 256 turns add, so an imported chat's backlog drains over the next runs)."""


PROMPT_WRITE_DELAY = 2.0
"""Seconds after a turn when the prompt breakdowns that wait are written (a burst of turns
writes each chat's newest once: ``pytavern.store.prompt_records``)."""


class Engine:
    """pytavern's service layer over one data directory."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        secrets: SecretStore,
        keep_warm: KeepWarm | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.secrets = secrets
        self._owns_keep_warm = keep_warm is None
        self.keep_warm = keep_warm or KeepWarm()
        """Keep-warm pings of idle chats (shared by the engines of every user)."""
        self.providers = ProviderPool(store, secrets)
        self.parsed = ParsedCache()
        self._turns_unindexed = 0
        self._prompts_due: asyncio.TimerHandle | None = None
        self._background: set[asyncio.Task[object]] = set()

    @classmethod
    def open(cls, settings: Settings) -> Engine:
        """Open the data directory (creating and migrating it) and install first-run data.

        The database is ``settings.database_url`` when set (PostgreSQL for many users),
        otherwise a SQLite file in the data directory.
        """
        data_dir: Path = settings.data_dir
        secure_data_dir(data_dir)
        database_url = settings.database_url
        if not database_url:
            private_sqlite_file(settings.database_path)
        backup_before_migration(settings)
        store = (
            Store.open(database_url) if database_url else Store.open_sqlite(settings.database_path)
        )
        install_defaults(store)
        return cls(settings, store, SecretStore(settings.secrets_path))

    def for_user(self, user_id: int) -> Engine:
        """An engine over the same database that sees only ``user_id``'s data and keys.

        A user's first visit installs the default character and ``local`` connection.
        Providers are not shared between users (each has its own connections and keys).
        """
        store = self.store.for_owner(user_id)
        install_defaults(store)
        return Engine(self.settings, store, self.secrets.for_owner(user_id), self.keep_warm)

    def in_background(self, work: Coroutine[object, object, object]) -> None:
        """Run ``work`` in a task of its own (kept until it ends; cancelled by ``aclose``),
        logging what it raises."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background_ended)

    def _background_ended(self, task: asyncio.Task[object]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a background task failed", exc_info=task.exception())

    async def aclose(self) -> None:
        """Close providers and the database (and end the pings of idle chats and the
        background tasks)."""
        tasks, self._background = list(self._background), set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._owns_keep_warm:
            await self.keep_warm.aclose()
        await self.providers.aclose()
        self._flush_usage()
        if self._prompts_due is not None:
            self._prompts_due.cancel()
        self.store.close()  # writes the prompt breakdowns that wait

    def mark_interrupted_replies(self) -> Coroutine[None, None, int]:
        """Mark the replies a process that ended mid-stream left behind (``interrupted``:
        SQLite's search index then takes them), in a worker thread once awaited; how many.

        Only the swipes that exist when this is called are looked at: a server calls it as
        it starts, and its own replies, begun later, are left to their own last write.
        """
        return asyncio.to_thread(marker_at_start(self.store.engine))

    def start_chat(self, character_id: int) -> ChatRecord:
        """Create a chat that opens with the character's first message."""
        character = self.store.get_character(character_id)
        chat = self.store.create_chat(character_id, title=character.name)
        card = card_from_dict(character.card, filename=character.name)
        persona = load_persona(self.store, load_preferences(self.store))
        context = MacroContext(user=persona.name, char=card.name, chat_id=str(chat.id))
        texts = (card.first_mes, *card.alternate_greetings)
        greetings = [evaluate(text, context) for text in texts]
        greetings = [text for text in greetings if text.strip()]
        if greetings:
            first = self.store.append_message(
                chat.id, role="assistant", name=character.name, text=greetings[0]
            )
            for other in greetings[1:]:  # the alternate greetings are swipes of the first
                self.store.add_swipe(first.id, text=other)
            if len(greetings) > 1:
                self.store.set_active_swipe(first.id, 0)
        return self.store.get_chat(chat.id)

    async def provider(self, connection: str | None = None) -> tuple[ConnectionRecord, Provider]:
        """The connection record (named or default) and its provider."""
        record = self.providers.resolve(connection)
        return record, await self.providers.get(record)

    async def generate(
        self,
        chat_id: int,
        mode: GenerationMode = "send",
        text: str | None = None,
        *,
        connection: str | None = None,
        speaker: GroupSpeaker | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Run one turn of ``chat_id`` and yield its events; the result is persisted.

        ``send`` commits ``text`` as the user's message first. ``swipe`` and ``regenerate``
        add a new swipe to the last reply (the old one stays reachable), ``continue`` extends
        it, ``impersonate`` writes as the user and saves nothing, ``summarize`` makes the
        chat's summary (see ``pytavern.engine.summaries``; a group's chat is summed up with
        every member's card). ``speaker`` makes a group member (not the chat's character)
        answer.
        """
        chat_key = (self.store.owner_id, chat_id)
        self.keep_warm.stop(chat_key)  # a turn reads (and keeps) the cache itself
        if mode == "summarize" and speaker is None:
            speaker = summary_speaker(self.store, chat_id)
        request = TurnRequest(chat_id, mode, text, connection, speaker)
        turn = load_turn(self.store, self.secrets, self.parsed, request)
        turn = apply_profile(self.store, self.secrets, self.parsed, turn)
        turn = user_input_applied(self.store, turn)
        provider = await self.providers.get_for(turn.config)
        route = Route(self.store, self.secrets, self.providers, self.settings.data_dir)
        routed = RoutedStream(provider, turn, route)
        by_meaning = self._documents if turn.preferences.embeddings.connection else None
        turn_events = run_turn(
            self.store, provider, turn, stream_with=routed.stream, find_documents=by_meaning
        )
        try:
            async with aclosing(turn_events) as events:
                async for event in events:
                    yield event
            if pings := routed.keep_warm():
                self.keep_warm.start(chat_key, *pings)
        finally:
            self._flush_usage()
            self._write_prompts_later()
            self._index_now_and_then()

    async def _documents(self, turn: TurnData) -> None:
        """The Data Bank's search by meaning for a turn (imported on first use, with
        numpy)."""
        from pytavern.engine.databank_vectors import find_for_turn

        await find_for_turn(self.store, self.providers, turn)

    def _write_prompts_later(self) -> None:
        """Have the prompt breakdowns that wait written ``PROMPT_WRITE_DELAY`` seconds from
        now, unless a write is due already (at once when many chats wait)."""
        waiting = self.store.pending_prompts
        if not waiting:
            return
        if waiting.crowded():
            self._write_prompts()
        elif self._prompts_due is None:
            loop = asyncio.get_running_loop()
            self._prompts_due = loop.call_later(PROMPT_WRITE_DELAY, self._write_prompts)

    def _write_prompts(self) -> None:
        if self._prompts_due is not None:
            self._prompts_due.cancel()
            self._prompts_due = None
        try:
            self.store.write_prompts()
        except Exception:  # diagnostics only: the turn and its reply are saved
            log.exception("the last prompts of some chats could not be written")

    def _index_now_and_then(self) -> None:
        """Index the pending search texts every ``SEARCH_INDEX_EVERY`` turns."""
        self._turns_unindexed += 1
        if self._turns_unindexed < SEARCH_INDEX_EVERY:
            return
        self._turns_unindexed = 0
        try:
            index_pending(self.store.engine, SEARCH_INDEX_BATCH)
        except Exception:  # a search indexes them first: nothing is lost
            log.exception("the search index could not take the newest messages")

    def _flush_usage(self) -> None:
        """Commit ledger rows no write of the turn took (it failed, or wrote nothing)."""
        try:
            self.store.flush_usage()
        except PytavernError:  # the ledger must never break a turn
            log.exception("the usage ledger could not record a request")
