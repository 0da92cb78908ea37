"""A server killed between showing a reply's first text and committing it loses nothing.

The database is locked by the test (a write transaction held open, as a backup tool or a
second program might) before the message is sent: the server's first write cannot commit.
The client must still get the first text at once (it is noted in the turn journal first),
and a SIGKILL while the commit waits must leave both messages to the next start, once.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import httpx

from tests.reliability.harness import ServerProcess, add_upstream_connection, text_upstream
from tests.reliability.test_crash import Round, _generate

JOURNALS = "pytavern.db-turns-*.journal"


def test_a_kill_while_the_first_write_waits_for_the_database_loses_nothing(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data, tmp_path / "server.log")
    with text_upstream(0.5) as (upstream, _plan):  # the first token at once, then slowly
        server.start()
        with httpx.Client(base_url=server.url, timeout=10) as http:
            add_upstream_connection(http, upstream, {"max_retries": 0}, api="vllm")
            chat_id = http.post("/api/characters/1/chats").json()["id"]
        lock = sqlite3.connect(data / "pytavern.db", timeout=1, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # readers go on; no write commits
        seen = Round(text="tell me about the road")
        client = threading.Thread(target=_generate, args=(server.url, chat_id, seen))
        client.start()
        try:
            assert seen.first_text.wait(15) and seen.seen, "no text while the database waits"
            assert len(list(data.glob(JOURNALS))) == 1
        finally:
            server.kill()
            lock.execute("ROLLBACK")
            lock.close()
            client.join(timeout=10)
        server.start()  # commits what the killed server noted
        try:
            with httpx.Client(base_url=server.url, timeout=10) as http:
                chat = http.get(f"/api/chats/{chat_id}", params={"limit": 50}).json()
        finally:
            server.stop()
    messages = chat["messages"]
    said = [(m["role"], m["text"], m["swipe"]["status"]) for m in messages[-2:]]
    assert said == [("user", seen.text, "complete"), ("assistant", seen.seen, "incomplete")]
    assert [m["text"] for m in messages].count(seen.text) == 1
    assert not list(data.glob(JOURNALS))
