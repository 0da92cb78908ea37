"""The fakes of the native cloud sources (issue 11, item 7): spec name -> how to reach it.

``FAKES[name].start(plan)`` serves the spec's fake on 127.0.0.1 with ``plan`` (a
``FaultPlan``: every fake here takes the shared fault names) and yields the
``ConnectionConfig`` pointing at it (URL, key, model and options the fake accepts). Extra
keyword arguments of ``start`` become connection options (timeouts, retries...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pytavern.providers.base import ConnectionConfig
from tests.fakes import azure_fake, bedrock_fake, cohere_fake, vertex_fake
from tests.fakes.server import FaultPlan, serve

Connect = Callable[[str], dict[str, Any]]
"""The fake's base URL -> the connection's ``url``, ``key``, ``model`` and ``options``."""


@dataclass(frozen=True, slots=True)
class NativeFake:
    """One spec's fake: its app factory and the connection that points at it."""

    api: str
    create_app: Callable[[FaultPlan], Any]
    connect: Connect

    @contextmanager
    def start(self, plan: FaultPlan, **options: Any) -> Iterator[ConnectionConfig]:
        """Serve the fake for the block; yield the connection to it."""
        with serve(self.create_app(plan)) as url:
            fields = self.connect(url)
            yield ConnectionConfig(
                name=f"fake-{self.api}",
                api=self.api,
                url=fields.get("url"),
                key=fields.get("key"),
                model=fields.get("model"),
                options={**fields.get("options", {}), **options},
            )


def _cohere(url: str) -> dict[str, Any]:
    return {"url": url, "key": cohere_fake.DEFAULT_KEY, "model": cohere_fake.CHAT_MODELS[0]}


def _azure(url: str) -> dict[str, Any]:
    return {"url": url, "key": azure_fake.DEFAULT_KEY, "options": {"deployment": "chat-4o"}}


def _vertex(url: str) -> dict[str, Any]:
    key = vertex_fake.service_account_json(url)
    return {
        "url": url,
        "key": key,
        "model": "gemini-2.5-flash",
        "options": {"region": "us-central1"},
    }


def _bedrock(url: str) -> dict[str, Any]:
    options = {"access_key_id": bedrock_fake.ACCESS_KEY_ID, "region": bedrock_fake.REGION}
    model = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
    return {"url": url, "key": bedrock_fake.SECRET_KEY, "model": model, "options": options}


FAKES: dict[str, NativeFake] = {
    "cohere": NativeFake("cohere", cohere_fake.create_app, _cohere),
    "azure": NativeFake("azure", azure_fake.create_app, _azure),
    "vertex": NativeFake("vertex", vertex_fake.create_app, _vertex),
    "bedrock": NativeFake("bedrock", bedrock_fake.create_app, _bedrock),
}
"""Spec name -> its fake (the contract suite runs every registered spec against these)."""
