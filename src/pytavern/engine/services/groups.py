"""Group chats: create and edit groups, run their turns, import and export SillyTavern's
group JSON with its chat JSONL."""

from __future__ import annotations

import random
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytavern.engine import transfer
from pytavern.engine.group_activation import (
    STRATEGY_NAMES,
    SpokenLine,
    activate,
    swipe_speaker,
)
from pytavern.engine.groups import (
    HISTORY_FOR_STRATEGY,
    GroupMember,
    avatar_ids,
    chat_file_name,
    check_members,
    group_chat_metadata,
    members_of,
    new_group_id,
    resolve_avatar,
    speaker_for,
    spoken_lines,
    with_original_avatars,
)
from pytavern.engine.preferences import load_preferences
from pytavern.engine.regex_scripts import regex_user_input
from pytavern.engine.services._base import Service
from pytavern.engine.services.characters import character_by_id_or_name
from pytavern.engine.services.generation import GenerationService, TurnResult
from pytavern.engine.services.group_views import (
    GENERATION_MODES,
    GroupReply,
    GroupTurn,
    GroupView,
    MemberView,
    choice,
    name_of,
)
from pytavern.engine.turn_loader import GenerationMode, load_persona
from pytavern.errors import ConfigError, NotFoundError
from pytavern.events import ErrorEvent, Finished, StatusEvent, StreamEvent
from pytavern.formats.cards import card_from_dict
from pytavern.formats.groups import GroupFile, group_to_json, new_group, read_group
from pytavern.prompt.macros import MacroContext, evaluate
from pytavern.store import CharacterRecord, GroupRecord


@dataclass(frozen=True, slots=True)
class _Step:
    """One member's part of a group turn: who answers, to what text, in which mode."""

    member: GroupMember
    text: str | None
    mode: GenerationMode


_REDO_MODES: dict[str, GenerationMode] = {
    "swipe": "swipe",
    "regenerate": "regenerate",
    "continue": "continue",
}


class GroupService(Service):
    """Group chats over one engine."""

    # --- reading ------------------------------------------------------------------------

    def all(self) -> list[GroupView]:
        """Every group, by name."""
        return [self._view(g) for g in self._engine.store.list_groups()]

    def get(self, group: int | str) -> GroupView:
        """A group by id or name."""
        return self._view(self._record(group))

    def _record(self, group: int | str) -> GroupRecord:
        store = self._engine.store
        if isinstance(group, int):
            return store.get_group(group)
        return store.find_group(group)

    def _view(self, record: GroupRecord) -> GroupView:
        group = GroupFile(record.data)
        members = [
            MemberView(
                m.character.id, m.character.name, m.avatar, m.muted, m.as_member().talkativeness
            )
            for m in members_of(self._engine.store, record)
        ]
        return GroupView(
            id=record.id,
            name=record.name,
            chat_id=record.chat_id,
            members=members,
            activation_strategy=name_of(STRATEGY_NAMES, group.activation_strategy),
            generation_mode=name_of(GENERATION_MODES, group.generation_mode),
            allow_self_responses=group.allow_self_responses,
            auto_mode_delay=group.auto_mode_delay,
            join_prefix=group.join_prefix,
            join_suffix=group.join_suffix,
        )

    # --- creating and editing -------------------------------------------------------------

    def create(
        self, name: str, members: list[str | int], *, strategy: str = "natural"
    ) -> GroupView:
        """A new group of stored characters (by name or id), with a new chat that opens
        with each member's greeting."""
        if not name.strip():
            raise ConfigError("a group needs a name", hint="Give the group a name")
        characters = [self._character(m) for m in members]
        check_members(characters)
        chat_name = chat_file_name()
        group = new_group(new_group_id(), name.strip(), avatar_ids(characters), chat_name)
        group = group.with_changes(activation_strategy=choice(STRATEGY_NAMES, strategy, "strategy"))
        chat_id = self._new_chat(group, characters, chat_name)
        record = self._engine.store.create_group(
            group.name, group.raw, [c.id for c in characters], chat_id
        )
        return self._view(record)

    def _character(self, member: str | int) -> CharacterRecord:
        return character_by_id_or_name(self._engine.store, member)

    def _new_chat(self, group: GroupFile, characters: list[CharacterRecord], title: str) -> int:
        store = self._engine.store
        chat = store.create_chat(characters[0].id, title=title, metadata=group_chat_metadata(group))
        persona = load_persona(store, load_preferences(store))
        muted = set(group.disabled_members)
        for avatar, character in zip(group.members, characters, strict=True):
            if avatar in muted:
                continue
            card = card_from_dict(character.card, filename=character.name)
            context = MacroContext(user=persona.name, char=card.name, chat_id=str(chat.id))
            greeting = evaluate(card.first_mes, context)
            if greeting.strip():
                store.append_message(chat.id, role="assistant", name=character.name, text=greeting)
        return chat.id

    def update(
        self,
        group: int | str,
        *,
        name: str | None = None,
        add: list[str | int] | None = None,
        remove: list[str | int] | None = None,
        mute: list[str | int] | None = None,
        unmute: list[str | int] | None = None,
        strategy: str | None = None,
        generation_mode: str | None = None,
        allow_self_responses: bool | None = None,
        auto_mode_delay: int | None = None,
        join_prefix: str | None = None,
        join_suffix: str | None = None,
    ) -> GroupView:
        """Change a group: its name, members, muted members and settings (what is given)."""
        record = self._record(group)
        file = GroupFile(record.data)
        avatars, ids = list(file.members), list(record.member_ids)
        for member in add or []:
            character = self._character(member)
            if character.id in ids:
                raise ConfigError(f"{character.name} is in the group already")
            avatars += avatar_ids([character], {a.lower().removesuffix(".png") for a in avatars})
            ids.append(character.id)
        for member in remove or []:
            index = ids.index(self._member_id(ids, member))
            del avatars[index], ids[index]
        check_members([self._engine.store.get_character(i) for i in ids])
        disabled = [a for a in file.disabled_members if a in avatars]
        for member in mute or []:
            avatar = avatars[ids.index(self._member_id(ids, member))]
            disabled += [] if avatar in disabled else [avatar]
        for member in unmute or []:
            avatar = avatars[ids.index(self._member_id(ids, member))]
            disabled = [a for a in disabled if a != avatar]
        changes: dict[str, Any] = {"members": avatars, "disabled_members": disabled}
        if name is not None:
            if not name.strip():
                raise ConfigError("a group needs a name", hint="Give the group a name")
            changes["name"] = name.strip()
        if strategy is not None:
            changes["activation_strategy"] = choice(STRATEGY_NAMES, strategy, "strategy")
        if generation_mode is not None:
            changes["generation_mode"] = choice(GENERATION_MODES, generation_mode, "mode")
        if allow_self_responses is not None:
            changes["allow_self_responses"] = allow_self_responses
        if auto_mode_delay is not None:
            changes["auto_mode_delay"] = max(1, auto_mode_delay)
        if join_prefix is not None:
            changes["generation_mode_join_prefix"] = join_prefix
        if join_suffix is not None:
            changes["generation_mode_join_suffix"] = join_suffix
        data = file.with_changes(**changes).raw
        return self._view(self._engine.store.update_group(record.id, data=data, member_ids=ids))

    def _member_id(self, ids: list[int], member: str | int) -> int:
        character = self._character(member)
        if character.id not in ids:
            raise NotFoundError(
                f"{character.name} is not in the group", hint="List the group to see its members"
            )
        return character.id

    def delete(self, group: int | str) -> None:
        """Delete a group (its chat stays, as a chat of its first member)."""
        self._engine.store.delete_group(self._record(group).id)

    # --- turns ----------------------------------------------------------------------------

    async def send(
        self,
        group: int | str,
        text: str | None,
        *,
        connection: str | None = None,
        seed: int | None = None,
    ) -> GroupTurn:
        """The user says ``text`` (``None``: the group goes on by itself, as auto-mode does);
        the members the group's strategy picks answer, one after another."""
        record, members = self._turn_setup(group)
        steps = self._send_steps(record, members, text, seed)
        return await self._run(record, members, steps, connection)

    async def trigger(
        self, group: int | str, member: str | int, *, connection: str | None = None
    ) -> GroupTurn:
        """One member answers now (what manual order waits for), muted or not."""
        record, members = self._turn_setup(group)
        return await self._run(
            record, members, self._trigger_steps(record, members, member), connection
        )

    async def redo(
        self, group: int | str, mode: str = "swipe", *, connection: str | None = None
    ) -> GroupTurn:
        """Swipe, regenerate or continue the last reply, as the member who wrote it."""
        record, members = self._turn_setup(group)
        return await self._run(record, members, self._redo_steps(record, members, mode), connection)

    async def events(
        self,
        group: int | str,
        action: str,
        *,
        text: str | None = None,
        member: str | int | None = None,
        mode: str = "swipe",
        connection: str | None = None,
    ) -> AsyncGenerator[StreamEvent]:
        """A group turn as one stream (``action``: ``send``, ``trigger`` or ``redo``, as
        the methods of those names): before each member's events a ``StatusEvent`` names
        the ``speaker`` and the message its reply follows (``after_id``; a continue adds
        the ``prefix`` its text extends); the members' own
        ``Finished`` are folded into one at the end, whose ``extra["replies"]`` lists who
        answered (a member's error ends the turn there) and ``summary_due`` whether the chat
        is due a new summary."""
        record, members = self._turn_setup(group)
        if action == "send":
            steps = self._send_steps(record, members, text, None)
        elif action == "trigger" and member is not None:
            steps = self._trigger_steps(record, members, member)
        elif action == "redo":
            steps = self._redo_steps(record, members, mode)
        else:
            raise ConfigError(
                f"unknown group action {action!r}",
                hint="Use send (with text), trigger (with a member) or redo (with a mode)",
            )
        assert record.chat_id is not None  # _turn_setup made it
        replies: list[dict[str, Any]] = []
        last: Finished | None = None
        for step in steps:
            name = step.member.character.name
            after_id, prefix = self._reply_place(record.chat_id, step.mode)
            yield StatusEvent(
                f"{name} is answering", speaker=name, after_id=after_id, prefix=prefix
            )
            failed = False
            async with aclosing(self._step_events(record, step, members, connection)) as stream:
                async for event in stream:
                    if isinstance(event, Finished):
                        last = event
                        replies.append({"speaker": name, **event.extra})
                        continue
                    failed = failed or isinstance(event, ErrorEvent)
                    yield event
            if failed:
                break
        extra: dict[str, object] = {"chat_id": record.chat_id, "replies": replies}
        if any(reply.get("summary_due") for reply in replies):
            extra["summary_due"] = True  # the chat's summary is due (the summary settings)
        yield Finished(
            last.reason if last else "stop", model=last.model if last else None, extra=extra
        )

    def _reply_place(self, chat_id: int, mode: GenerationMode) -> tuple[int, str | None]:
        """The id of the message a member's reply will follow: the newest one, or for a
        swipe, regenerate or continue (of the newest) the one before it (0: none); and
        for a continue, the newest one's text, which the reply extends."""
        recent = self._engine.store.history(chat_id, limit=2)
        redone = mode in ("swipe", "regenerate", "continue") and bool(recent)
        prefix = recent[-1].text if mode == "continue" and recent else None
        if redone:
            recent = recent[:-1]
        return (recent[-1].id if recent else 0), prefix

    def _send_steps(
        self,
        record: GroupRecord,
        members: list[GroupMember],
        text: str | None,
        seed: int | None,
    ) -> list[_Step]:
        """Who answers ``text`` (the group's strategy picks); the message is stored at once
        when nobody does."""
        store = self._engine.store
        assert record.chat_id is not None
        history = store.history(record.chat_id, limit=HISTORY_FOR_STRATEGY)
        lines = spoken_lines(history, members)
        if text:
            persona = load_persona(store, load_preferences(store))
            lines.append(SpokenLine(persona.name, True, None, False, text))
        file = GroupFile(record.data)
        picked = activate(
            file.activation_strategy,
            [m.as_member() for m in members],
            lines,
            user_input=text,
            rng=random.Random(seed),
            allow_self_responses=file.allow_self_responses,
        )
        if not picked and text:  # stored as a turn would store it (user-input scripts)
            persona = load_persona(store, load_preferences(store))
            text = regex_user_input(store, record.chat_id, text)
            store.append_message(record.chat_id, role="user", name=persona.name, text=text)
            return []
        by_avatar = {m.avatar: m for m in members}
        first = [_Step(by_avatar[picked[0].key], text, "send")] if picked else []
        return first + [_Step(by_avatar[chosen.key], None, "send") for chosen in picked[1:]]

    def _trigger_steps(
        self, record: GroupRecord, members: list[GroupMember], member: str | int
    ) -> list[_Step]:
        character_id = self._member_id(record.member_ids, member)
        return [_Step(next(m for m in members if m.character.id == character_id), None, "send")]

    def _redo_steps(
        self, record: GroupRecord, members: list[GroupMember], mode: str
    ) -> list[_Step]:
        if mode not in _REDO_MODES:
            raise ConfigError(f"unknown mode {mode!r}", hint="Use swipe, regenerate or continue")
        assert record.chat_id is not None
        history = self._engine.store.history(record.chat_id, limit=HISTORY_FOR_STRATEGY)
        found = swipe_speaker([m.as_member() for m in members], spoken_lines(history, members))
        if found is None:
            raise ConfigError(
                f"there is no member's reply to {mode}", hint="Send a message to the group first"
            )
        return [_Step(next(m for m in members if m.avatar == found.key), None, _REDO_MODES[mode])]

    async def _run(
        self,
        record: GroupRecord,
        members: list[GroupMember],
        steps: list[_Step],
        connection: str | None,
    ) -> GroupTurn:
        """Run ``steps`` one after another (a failed one ends the turn there)."""
        assert record.chat_id is not None
        turn = GroupTurn(record.id, record.chat_id)
        for step in steps:
            result = TurnResult(record.chat_id)
            async with aclosing(self._step_events(record, step, members, connection)) as events:
                async for event in events:
                    result.feed(event)
            character = step.member.character
            turn.replies.append(GroupReply(character.name, character.id, result))
            if result.error is not None:
                break
        return turn

    def _turn_setup(self, group: int | str) -> tuple[GroupRecord, list[GroupMember]]:
        record = self._record(group)
        members = members_of(self._engine.store, record)
        if not members:
            raise ConfigError(
                f"group {record.name!r} has no members left",
                hint="Add a member: pytavern groups edit NAME --add CHARACTER",
            )
        if record.chat_id is None:
            file = GroupFile(record.data)
            chat_id = self._new_chat(file, [m.character for m in members], file.chat_id)
            record = self._engine.store.update_group(record.id, chat_id=chat_id)
        return record, members

    def _step_events(
        self,
        record: GroupRecord,
        step: _Step,
        members: list[GroupMember],
        connection: str | None,
    ) -> AsyncGenerator[StreamEvent]:
        """The events of one member's turn in the group's chat, as that member."""
        assert record.chat_id is not None
        return GenerationService(self._engine).stream(
            record.chat_id,
            step.mode,
            step.text,
            connection=connection,
            speaker=speaker_for(record, step.member, members),
        )

    # --- files ----------------------------------------------------------------------------

    def find_chat_file(self, group_file: Path) -> Path | None:
        """Where SillyTavern keeps a group file's chat: ``../group chats/<chat_id>.jsonl``
        (or a ``.jsonl`` beside it with the same name); ``None`` when there is none."""
        try:
            chat_id = read_group(group_file.read_bytes(), group_file.name).chat_id
        except OSError:
            return None
        candidates = [group_file.with_suffix(".jsonl")]
        if chat_id:
            candidates.insert(0, group_file.parent.parent / "group chats" / f"{chat_id}.jsonl")
        return next((c for c in candidates if c.is_file()), None)

    def import_files(
        self, group_json: bytes, filename: str, chat_jsonl: bytes | None = None
    ) -> GroupView:
        """Import a SillyTavern group (its members must be characters here) and its chat."""
        file = read_group(group_json, filename)
        characters = [resolve_avatar(self._engine.store, a) for a in file.members]
        check_members(characters)
        if chat_jsonl is None:
            chat_id = self._new_chat(file, characters, file.chat_id or chat_file_name())
        else:
            name = (file.chat_id or "group chat") + ".jsonl"
            chat = transfer.read_chat_import(chat_jsonl, name)
            stored = self._engine.store.import_chat(
                characters[0].id, title=chat.title, metadata=chat.metadata, messages=chat.messages
            )
            chat_id = stored.id
        name = file.name or "Group"
        final = self._engine.store.unique_group_name(name)
        data = file.with_changes(name=final).raw if final != name else file.raw
        record = self._engine.store.create_group(final, data, [c.id for c in characters], chat_id)
        return self._view(record)

    def export_files(self, group: int | str) -> tuple[bytes, bytes | None]:
        """The group as SillyTavern JSON, and its current chat as SillyTavern JSONL."""
        record = self._record(group)
        file = GroupFile(record.data)
        if record.chat_id is None:
            return group_to_json(file), None
        chat = transfer.export_chat(self._engine.store, record.chat_id)
        return group_to_json(file), with_original_avatars(
            chat, members_of(self._engine.store, record)
        )
