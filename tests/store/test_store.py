"""The SQLite store: migrations, connections, characters, chats, messages and swipes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect

from pytavern.engine.setup import default_card, install_defaults
from pytavern.errors import NotFoundError
from pytavern.store import Store


def test_migrations_create_the_schema(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"connections", "characters", "chats", "messages", "swipes", "meta"} <= tables
    assert "alembic_version" in tables


def test_reopening_migrated_database_keeps_data(tmp_path: Path) -> None:
    first = Store.open_sqlite(tmp_path / "x.db")
    first.add_character({"name": "A"})
    first.close()
    again = Store.open_sqlite(tmp_path / "x.db")
    assert [c.name for c in again.list_characters()] == ["A"]


def test_first_connection_becomes_default(store: Store) -> None:
    store.save_connection(name="one", api="local")
    store.save_connection(name="two", api="openai", url="http://x", model="m")
    assert store.default_connection().name == "one"
    store.set_default_connection("two")
    assert store.default_connection().name == "two"
    assert [c.name for c in store.list_connections() if c.is_default] == ["two"]


def test_missing_connection_lists_known_ones(store: Store) -> None:
    store.save_connection(name="one", api="local")
    with pytest.raises(NotFoundError) as info:
        store.get_connection("nope")
    assert "one" in str(info.value)


def test_one_connection_option_is_set_keeping_the_others(store: Store) -> None:
    alice, bob = store.for_owner(1), store.for_owner(2)
    mine = alice.save_connection(name="c", api="ollama", options={"timeout_gap": 5})
    alice.set_connection_option(mine.id, "chars_per_token", 4.1)
    assert alice.get_connection("c").options == {"timeout_gap": 5, "chars_per_token": 4.1}
    bob.set_connection_option(mine.id, "chars_per_token", 1.0)  # not bob's: nothing changes
    assert alice.get_connection("c").options["chars_per_token"] == 4.1


def test_defaults_are_installed_once(store: Store) -> None:
    install_defaults(store)
    install_defaults(store)
    characters = store.list_characters()
    assert [c.name for c in characters] == [default_card()["data"]["name"]]
    store.delete_character(characters[0].id)
    install_defaults(store)
    assert store.list_characters() == []
    assert store.default_connection().api == "local"


def test_messages_swipes_and_history_window(store: Store) -> None:
    character = store.add_character({"spec": "chara_card_v2", "data": {"name": "Bo"}})
    chat = store.create_chat(character.id)
    for index in range(10):
        store.append_message(
            chat.id, role="user" if index % 2 else "assistant", name="", text=f"m{index}"
        )
    window = store.history(chat.id, limit=3)
    assert [m.text for m in window] == ["m7", "m8", "m9"]
    assert [m.position for m in window] == [7, 8, 9]
    last = store.last_message(chat.id)
    assert last is not None
    swiped = store.add_swipe(last.id, text="alt", status="incomplete", finish_reason="cancelled")
    assert (swiped.active_swipe, swiped.swipe_count, swiped.text) == (1, 2, "alt")
    assert swiped.swipe.status == "incomplete"
    back = store.set_active_swipe(last.id, 0)
    assert back.text == "m9"
    assert [s.text for s in store.list_swipes(last.id)] == ["m9", "alt"]
    assert store.get_chat(chat.id).message_count == 10


def test_deleting_a_character_deletes_its_chats(store: Store) -> None:
    character = store.add_character({"name": "Cy"})
    chat = store.create_chat(character.id)
    store.append_message(chat.id, role="user", name="", text="hi")
    store.delete_character(character.id)
    with pytest.raises(NotFoundError):
        store.get_chat(chat.id)


def test_personas_default_and_fields(store: Store) -> None:
    alice = store.save_persona(name="Alice", description="a knight", position=4, depth=3)
    bob = store.save_persona(name="Bob")
    assert store.default_persona() is None
    store.set_default_persona(alice.id)
    store.set_default_persona(bob.id)
    default = store.default_persona()
    assert default is not None and default.name == "Bob"
    changed = store.save_persona(alice.id, description="a tired knight")
    assert (changed.description, changed.position, changed.depth) == ("a tired knight", 4, 3)
    with pytest.raises(Exception, match="unknown persona fields"):
        store.save_persona(name="x", colour="red")


def test_lorebooks_presets_settings_keep_every_field(store: Store) -> None:
    book = {"entries": {"0": {"uid": 0, "key": ["a"], "content": "A", "unknownField": [1]}}}
    store.save_lorebook("World", book)
    store.save_lorebook("World", book | {"extra": True})
    assert store.get_lorebook("World").data == book | {"extra": True}
    assert [b.name for b in store.list_lorebooks()] == ["World"]
    store.save_preset("instruct", "Mine", {"input_sequence": "### U:", "x": 1})
    preset = store.get_preset("instruct", "Mine")
    assert preset is not None and preset.data["x"] == 1
    with pytest.raises(Exception, match="unknown preset kind"):
        store.save_preset("colour", "x", {})
    store.set_setting("generation", {"max_tokens": 200})
    assert store.get_setting("generation") == {"max_tokens": 200}
    assert store.get_setting("missing", 5) == 5
    store.delete_lorebook("World")
    with pytest.raises(NotFoundError):
        store.get_lorebook("World")


def test_owners_cannot_see_each_others_objects(store: Store) -> None:
    alice, bob = store.for_owner(1), store.for_owner(2)
    character = alice.add_character({"name": "Secret"})
    chat = alice.create_chat(character.id)
    message = alice.append_message(chat.id, role="user", name="", text="private")
    alice.save_connection(name="oa", api="openai", url="http://x")
    bob.save_connection(name="oa", api="claude")
    alice.save_lorebook("Lore", {"entries": {}})
    persona = alice.save_persona(name="Me")
    alice.save_preset("instruct", "P", {})
    alice.set_setting("k", 1)
    assert bob.list_characters() == [] and bob.list_chats() == []
    assert bob.get_connection("oa").api == "claude" and alice.get_connection("oa").api == "openai"
    assert bob.list_lorebooks() == [] and bob.list_personas() == [] and bob.list_presets() == []
    assert bob.get_setting("k") is None and alice.get_setting("k") == 1
    for attempt in (
        lambda: bob.get_character(character.id),
        lambda: bob.get_chat(chat.id),
        lambda: bob.history(chat.id),
        lambda: bob.get_message(message.id),
        lambda: bob.add_swipe(message.id, text="x"),
        lambda: bob.delete_message(message.id),
        lambda: bob.list_swipes(message.id),
        lambda: bob.create_chat(character.id),
        lambda: bob.get_lorebook("Lore"),
        lambda: bob.get_persona(persona.id),
        lambda: bob.delete_character(character.id),
    ):
        with pytest.raises(NotFoundError):
            attempt()
    assert alice.history(chat.id)[0].text == "private"


def test_users_sessions_and_adoption(store: Store) -> None:
    from datetime import timedelta

    from pytavern.store.schema import utcnow

    store.add_character({"name": "Mine"})
    admin = store.create_user("admin", "hash", is_admin=True)
    with pytest.raises(Exception, match="exists already"):
        store.create_user("admin", "hash")
    store.adopt_unowned(admin.id)
    assert store.list_characters() == []
    assert [c.name for c in store.for_owner(admin.id).list_characters()] == ["Mine"]
    store.create_session("live", admin.id, utcnow() + timedelta(hours=1))
    store.create_session("old", admin.id, utcnow() - timedelta(seconds=1))
    user = store.session_user("live")
    assert user is not None and user.name == "admin" and user.is_admin
    assert store.session_user("old") is None and store.session_user("nope") is None
    store.update_user(admin.id, enabled=False)
    assert store.session_user("live") is None


@contextmanager
def _database_at(path: Path, revision: str) -> Iterator[tuple[Connection, str]]:
    """A database migrated to ``revision`` holding character 1, and a timestamp to use."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from pytavern.store.database import MIGRATIONS_DIR, make_engine, sqlite_url

    engine = make_engine(sqlite_url(path))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    now = "2025-01-01 00:00:00"
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.execute(
            text(
                "INSERT INTO characters (id, owner_id, name, card, created_at, updated_at) "
                "VALUES (1, 0, 'A', '{}', :now, :now)"
            ),
            {"now": now},
        )
        yield connection, now
    engine.dispose()


def test_upgrade_to_0003_counts_the_messages_there_are(tmp_path: Path) -> None:
    """A database made before chats kept their message count gets the right counts."""
    from sqlalchemy import text

    with _database_at(tmp_path / "old.db", "0002") as (connection, now):
        for chat_id, messages in ((1, 3), (2, 0)):
            connection.execute(
                text(
                    "INSERT INTO chats (id, owner_id, character_id, title, metadata, "
                    "next_position, created_at, updated_at) "
                    "VALUES (:id, 0, 1, '', '{}', :n, :now, :now)"
                ),
                {"id": chat_id, "n": messages, "now": now},
            )
            for position in range(messages):
                connection.execute(
                    text(
                        "INSERT INTO messages (chat_id, position, role, name, active_swipe, "
                        "swipe_count, extra, created_at) "
                        "VALUES (:chat, :position, 'user', 'U', 0, 1, '{}', :now)"
                    ),
                    {"chat": chat_id, "position": position, "now": now},
                )
    store = Store.open_sqlite(tmp_path / "old.db")
    try:
        assert [store.get_chat(1).message_count, store.get_chat(2).message_count] == [3, 0]
        message = store.append_message(2, role="user", name="U", text="hi")
        assert store.get_chat(2).message_count == 1
        store.delete_message(message.id)
        assert store.get_chat(2).message_count == 0
    finally:
        store.close()


def test_upgrade_to_0009_moves_the_last_prompt_out_of_the_metadata(tmp_path: Path) -> None:
    """A chat's last prompt breakdown leaves its metadata for ``chat_prompts``; the rest of
    the metadata stays, and a chat whose metadata is not JSON is left as it was."""
    import json

    from sqlalchemy import text

    metadata = {"timedWorldInfo": {"sticky": {}}, "last_prompt": {"total_tokens": 42}}
    with _database_at(tmp_path / "old.db", "0008_usage") as (connection, now):
        for chat_id, stored in ((1, json.dumps(metadata)), (2, '{"last_prompt": broken')):
            connection.execute(
                text(
                    "INSERT INTO chats (id, owner_id, character_id, title, metadata, "
                    "next_position, created_at, updated_at) "
                    "VALUES (:id, 0, 1, '', :metadata, 0, :now, :now)"
                ),
                {"id": chat_id, "metadata": stored, "now": now},
            )
    store = Store.open_sqlite(tmp_path / "old.db")
    try:
        assert store.last_prompt(1) == {"total_tokens": 42}
        assert store.get_chat(1).metadata == {"timedWorldInfo": {"sticky": {}}}
        assert store.last_prompt(2) is None
        store.delete_chat(1)
        with store.engine.connect() as connection:
            left = connection.execute(text("SELECT COUNT(*) FROM chat_prompts")).scalar()
        assert left == 0  # the breakdown goes with its chat
    finally:
        store.close()


def test_last_prompt_is_kept_per_chat_and_only_for_its_owner(store: Store) -> None:
    character = store.add_character({"name": "A"})
    chat = store.create_chat(character.id)
    assert store.last_prompt(chat.id) is None
    for total in (1, 2):
        with store.queries() as queries:
            queries.set_last_prompt(chat.id, {"total_tokens": total})
    assert store.last_prompt(chat.id) == {"total_tokens": 2}
    assert store.for_owner(7).last_prompt(chat.id) is None


def test_a_written_swipe_is_updated_without_reading_it_back(store: Store) -> None:
    character = store.add_character({"name": "A"})
    chat = store.create_chat(character.id)
    written = store.append_message(
        chat.id, role="assistant", name="A", text="Hal", status="incomplete"
    )
    with store.queries() as queries:
        done = queries.update_written_swipe(
            written, text="Hello", status="complete", usage={"output_tokens": 2}
        )
    assert done.text == "Hello" and done.swipe.usage == {"output_tokens": 2}
    assert done.chat_revision == written.chat_revision + 1  # type: ignore[operator]
    read = store.history(chat.id)[-1]  # what it returns is what a read gives (but the tz)
    assert replace(read, swipe=replace(read.swipe, created_at=None), created_at=None) == replace(
        done, swipe=replace(done.swipe, created_at=None), created_at=None
    )
    store.delete_message(written.id)
    with pytest.raises(NotFoundError), store.queries() as queries:
        queries.update_written_swipe(written, text="Gone", status="complete")


def test_upgrade_to_0010_takes_streaming_replies_out_of_the_index(tmp_path: Path) -> None:
    """Replies left streaming under the old triggers leave the index; the rest stays, and
    FTS5's integrity check holds before and after later writes."""
    from sqlalchemy import text

    from pytavern.store.search import search_messages

    with _database_at(tmp_path / "old.db", "0009_chat_prompts") as (connection, now):
        connection.execute(
            text(
                "INSERT INTO chats (id, owner_id, character_id, title, metadata, "
                "next_position, created_at, updated_at) VALUES (1, 0, 1, '', '{}', 2, :now, :now)"
            ),
            {"now": now},
        )
        for position, (words, status) in enumerate(
            (("done lantern", "complete"), ("cut lantern", "incomplete"))
        ):
            connection.execute(
                text(
                    "INSERT INTO messages (id, chat_id, position, role, name, active_swipe, "
                    "swipe_count, extra, created_at) "
                    "VALUES (:id, 1, :position, 'assistant', 'A', 0, 1, '{}', :now)"
                ),
                {"id": position + 1, "position": position, "now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO swipes (message_id, swipe_index, text, reasoning, status, "
                    "usage, created_at) VALUES (:message, 0, :words, '', :status, '{}', :now)"
                ),
                {"message": position + 1, "words": words, "status": status, "now": now},
            )
    store = Store.open_sqlite(tmp_path / "old.db")
    try:
        hits = search_messages(store.engine, 0, "lantern")
        assert [hit.text for hit in hits] == ["done lantern"]
        store.update_swipe(2, 0, text="cut lantern", status="incomplete", finish_reason="error")
        store.delete_message(1)
        assert [hit.text for hit in search_messages(store.engine, 0, "lantern")] == ["cut lantern"]
        with store.engine.begin() as check:
            check.execute(text("INSERT INTO swipes_fts(swipes_fts) VALUES ('integrity-check')"))
    finally:
        store.close()


def test_upgrade_to_0011_keeps_the_index_and_then_indexes_in_batches(tmp_path: Path) -> None:
    """What 0010's triggers indexed stays found; later writes are noted, indexed by the
    next search, and an edit of an old text takes the old words out."""
    from sqlalchemy import text

    from pytavern.store.search import search_messages

    with _database_at(tmp_path / "old.db", "0010_search_finished") as (connection, now):
        connection.execute(
            text(
                "INSERT INTO chats (id, owner_id, character_id, title, metadata, "
                "next_position, created_at, updated_at) VALUES (1, 0, 1, '', '{}', 1, :now, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO messages (id, chat_id, position, role, name, active_swipe, "
                "swipe_count, extra, created_at) VALUES (1, 1, 0, 'user', 'U', 0, 1, '{}', :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO swipes (message_id, swipe_index, text, reasoning, status, "
                "usage, created_at) VALUES (1, 0, 'old lantern', '', 'complete', '{}', :now)"
            ),
            {"now": now},
        )
    store = Store.open_sqlite(tmp_path / "old.db")
    try:
        assert [hit.text for hit in search_messages(store.engine, 0, "lantern")] == ["old lantern"]
        store.update_swipe(1, 0, text="new lamp", status="complete")
        store.append_message(1, role="assistant", name="A", text="a lamp too")
        assert [hit.text for hit in search_messages(store.engine, 0, "lantern")] == []
        assert [hit.text for hit in search_messages(store.engine, 0, "lamp")] == [
            "a lamp too",
            "new lamp",
        ]
        with store.engine.begin() as check:
            check.execute(text("INSERT INTO swipes_fts(swipes_fts) VALUES ('integrity-check')"))
    finally:
        store.close()


def test_listing_characters_reads_no_avatar_bytes(store: Store) -> None:
    """A library of cards with avatars held hundreds of megabytes of images: a listing
    says whether each has one without reading it."""
    from sqlalchemy import event

    card = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Ann"}}
    store.add_character(card, b"\x89PNG" + b"\x00" * 1000)
    store.add_character({**card, "data": {"name": "Bo"}})
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", seen)
    try:
        listed = store.list_characters()
    finally:
        event.remove(store.engine, "before_cursor_execute", seen)
    assert [(c.name, c.has_avatar) for c in listed] == [("Ann", True), ("Bo", False)]
    reads = [s for s in statements if "FROM characters" in s]
    assert reads and all("character_avatars" in s and "image" not in s for s in reads)
    with store.engine.connect() as connection:  # the images are apart from the rows
        columns = connection.exec_driver_sql("SELECT * FROM characters").keys()
    assert "avatar" not in columns


def test_upgrade_to_0014_moves_avatars_out_of_the_rows(tmp_path: Path) -> None:
    """A database made when avatars were in their rows keeps every image."""
    from sqlalchemy import text

    with _database_at(tmp_path / "old.db", "0013_chunk_vectors") as (connection, now):
        connection.execute(text("UPDATE characters SET avatar = :png"), {"png": b"\x89PNG-A"})
        connection.execute(
            text(
                "INSERT INTO characters (id, owner_id, name, card, created_at, updated_at) "
                "VALUES (2, 0, 'B', '{}', :now, :now)"
            ),
            {"now": now},
        )
        for persona_id, avatar in ((1, b"\x89PNG-P"), (2, None)):
            connection.execute(
                text(
                    "INSERT INTO personas (id, owner_id, name, description, position, depth, "
                    "role, avatar, is_default, created_at) "
                    "VALUES (:id, 0, 'P', '', 0, 2, 0, :avatar, false, :now)"
                ),
                {"id": persona_id, "avatar": avatar, "now": now},
            )
    store = Store.open_sqlite(tmp_path / "old.db")
    try:
        assert store.character_avatar(1) == b"\x89PNG-A"
        assert store.character_avatar(2) is None
        assert [(c.name, c.has_avatar) for c in store.list_characters()] == [
            ("A", True),
            ("B", False),
        ]
        assert store.persona_avatar(1) == b"\x89PNG-P"
        assert [p.has_avatar for p in store.list_personas()] == [True, False]
        store.delete_character(1)
        with store.engine.connect() as check:
            left = check.exec_driver_sql("SELECT count(*) FROM character_avatars").scalar()
        assert left == 0
    finally:
        store.close()
