"""The quick start, for real: the installed ``pytavern`` command on the built-in model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytavern.engine import Engine
from pytavern.settings import Settings

pytestmark = pytest.mark.model
PYTAVERN = [sys.executable, "-m", "pytavern"]


def run(data_dir: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTAVERN_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [*PYTAVERN, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_send_json_then_continue_the_chat(data_dir: Path) -> None:
    first = run(data_dir, "send", "Hello, who are you?", "--json")
    assert first.returncode == 0, first.stderr
    reply = json.loads(first.stdout)
    assert reply["reply"].strip() and reply["connection"] == "local"
    assert reply["model"] == "SmolLM2-135M-Instruct" and reply["usage"]["output_tokens"] > 0
    second = run(data_dir, "send", "Tell me more.", "--chat", str(reply["chat_id"]), "--json")
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)
    assert again["chat_id"] == reply["chat_id"] and again["reply"].strip()
    engine = Engine.open(Settings(data_dir=data_dir))
    texts = [m.text for m in engine.store.history(reply["chat_id"])]
    assert texts[1:] == ["Hello, who are you?", reply["reply"], "Tell me more.", again["reply"]]
    prompt = engine.store.last_prompt(reply["chat_id"])
    assert prompt["history"]["included"] == 4


def test_ctrl_c_in_chat_stops_and_keeps_the_partial_reply(data_dir: Path) -> None:
    setup = run(
        data_dir,
        "connections",
        "add",
        "long",
        "--api",
        "local",
        "--default",
        "--option",
        'sampling={"max_tokens": 400, "temperature": 0.8}',
        "--option",
        "seed=7",  # the same long story every run: one that ended early cannot be stopped
    )
    assert setup.returncode == 0, setup.stderr
    env = {**os.environ, "PYTAVERN_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    chat = subprocess.Popen(
        [*PYTAVERN, "chat"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=0,
        # Ctrl-C as a terminal sends it: a SIGINT ignored by this test process would be
        # ignored by the child too (an ignored signal survives exec).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert chat.stdin is not None and chat.stdout is not None
    chat.stdin.write("Tell me a very long story about the four roads.\n")
    chat.stdin.flush()
    seen = ""
    deadline = time.monotonic() + 120
    while seen.count("Wren:") < 2 or len(seen.rsplit("Wren:", 1)[1]) < 40:
        assert time.monotonic() < deadline, seen
        seen += os.read(chat.stdout.fileno(), 256).decode(errors="replace")
    status = Path(f"/proc/{chat.pid}/status").read_text()
    chat.send_signal(signal.SIGINT)
    chat.stdin.write("/quit\n")
    chat.stdin.flush()
    out, err = chat.communicate(timeout=30)
    assert chat.returncode == 0, err
    ignored = [line for line in status.splitlines() if line.startswith(("SigIgn", "SigCgt"))]
    assert "stopped" in err, (ignored, seen[-200:], out[-300:])
    engine = Engine.open(Settings(data_dir=data_dir))
    chat_id = engine.store.list_chats()[0].id
    history = engine.store.history(chat_id)
    assert history[1].text == "Tell me a very long story about the four roads."
    last = history[-1]
    assert last.role == "assistant" and last.swipe.status == "incomplete"
    assert last.swipe.finish_reason == "cancelled" and len(last.text) >= 20


def test_a_missing_model_file_is_a_one_line_error(data_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.gguf"
    run(
        data_dir,
        "connections",
        "add",
        "gone",
        "--api",
        "local",
        "--option",
        f"model_path={missing}",
    )
    result = run(data_dir, "send", "hi", "--connection", "gone")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0] and "model_path" in lines[0]
