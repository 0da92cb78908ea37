"""Every registered backend's fake, for the contract suite: how to serve it and connect.

``FAKES`` maps each API type name to a ``FakeBackend``; the suite fails for a registered
spec without an entry, so a new backend comes with its fake. A fake speaks the service's
real wire format on 127.0.0.1 and takes armed faults (``FaultPlan``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytavern.providers.base import ConnectionConfig
from tests.fakes import (
    anthropic_fake,
    flavours_chat,
    flavours_native,
    flavours_text,
    gemini_fake,
    horde,
    kobold,
    llamacpp,
    novelai,
    ollama,
    openai_fake,
    openai_text,
    text_flavours,
)
from tests.fakes.server import FaultPlan

STREAM_FAULTS = ("429", "500", "cut", "malformed", "stall", "html")
"""The faults every streaming backend's fake injects: status faults, a stall and a web page
before the reply, stream faults (cut, malformed) half way through it."""

AUTH_HEADERS = ("authorization", "x-api-key", "api-key", "apikey", "x-goog-api-key")


Connect = Callable[[str], dict[str, Any]]
"""A fake's served root URL -> the connection's ``url``, ``key``, ``model`` and ``options``."""


@dataclass(frozen=True)
class FakeBackend:
    """How the contract suite serves one API type's fake and connects to it.

    ``app(plan, key)`` builds the fake (accepting ``key`` where it checks keys); the
    connection is ``path`` appended to the fake's root URL with ``key``, ``model`` and
    ``options``, unless ``connect`` builds it from the root URL (a fake whose key, model or
    options are its own, or depend on where it is served: Vertex's service-account JSON
    names its token URL). ``faults`` are those its wire can carry (``()`` for a backend that
    is not reached over HTTP, with ``why`` saying so).
    """

    app: Callable[[FaultPlan, str], Any] | None
    key: str
    model: str | None = None
    path: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    faults: tuple[str, ...] = STREAM_FAULTS
    why: str = ""
    connect: Connect | None = None

    def config(self, api: str, root: str | None, **options: Any) -> ConnectionConfig:
        """The connection to this fake served at ``root`` (``None``: not served), with
        ``options`` over its own."""
        fields: dict[str, Any] = {"key": self.key or None, "model": self.model}
        fields["url"] = None if root is None else root + self.path
        fields["options"] = self.options
        if self.connect is not None and root is not None:
            fields = {**fields, **self.connect(root)}
        return ConnectionConfig(
            name=f"contract-{api}",
            api=api,
            url=fields["url"],
            model=fields["model"],
            key=fields["key"],
            options={**fields["options"], **options},
        )


def secrets_of(config: ConnectionConfig) -> tuple[str, ...]:
    """What must never show in output or errors: the key and, for a service-account JSON
    key (Vertex), its private key's lines."""
    if not config.key:
        return ()
    try:
        account = json.loads(config.key)
    except ValueError:
        return (config.key,)
    private = account.get("private_key", "") if isinstance(account, dict) else ""
    lines = [line for line in str(private).splitlines() if len(line) > 32]
    return (config.key, *lines)


def _secret(api: str) -> str:
    return f"sk-contract-{api}-SECRET-0042"


def openai_compatible(api: str, *, path: str = "/v1", model: str = "gpt-4o-mini") -> FakeBackend:
    """The fake for an OpenAI-compatible chat flavour served by ``openai_fake`` at ``path``
    (a flavour with its own error bodies or quirks gets its own fake instead)."""
    return FakeBackend(
        lambda plan, key: openai_fake.create_app(plan, key=key, prefix=path),
        _secret(api),
        model=model,
        path=path,
    )


def _openai_text(flavour: str) -> FakeBackend:
    return FakeBackend(
        lambda plan, key: openai_text.create_app(plan, flavour, key=key, token_delay=0.02),
        _secret(flavour),
        model=openai_text.MODEL,
    )


def _chat_flavour(api: str) -> FakeBackend:
    """A chat flavour's fake (``tests/fakes/flavours_chat.py``)."""
    fake = flavours_chat.FAKES[api]

    def connect(root: str) -> dict[str, Any]:
        url, options = fake.url(root), fake.options
        return {"url": url, "key": fake.key, "model": fake.model, "options": options}

    return FakeBackend(lambda plan, key: fake.app(plan), fake.key or "", connect=connect)


def _native(api: str) -> FakeBackend:
    """A native cloud source's fake (``tests/fakes/flavours_native.py``)."""
    fake = flavours_native.FAKES[api]
    return FakeBackend(lambda plan, key: fake.create_app(plan), "", connect=fake.connect)


def _text_flavour(api: str) -> FakeBackend:
    """A text flavour's fake (``tests/fakes/flavours_text.py``; the app is
    ``text_flavours.create_app``), demanding the contract key."""
    key = _secret(api)

    def app(plan: FaultPlan, key: str) -> Any:
        return text_flavours.create_app(plan, api, key=key, token_delay=0.01)

    def connect(root: str) -> dict[str, Any]:
        config = flavours_text.CONNECTIONS[api].config(api, root, key)
        return {"url": config.url, "key": key, "model": config.model, "options": config.options}

    return FakeBackend(app, key, connect=connect)


FAKES: dict[str, FakeBackend] = {
    "local": FakeBackend(
        None,
        "",
        options={"n_ctx": 512},
        faults=(),
        why="the built-in model runs in process: no HTTP, so no status or stream faults",
    ),
    "kobold": FakeBackend(
        lambda plan, key: kobold.create_app(plan, united=True, token_delay=0.02),
        _secret("kobold"),
        faults=("429", "500", "stall", "html"),
        why="KoboldAI United answers in one piece (no stream to cut or break)",
    ),
    "koboldcpp": FakeBackend(
        lambda plan, key: kobold.create_app(plan, password=key, token_delay=0.02),
        _secret("koboldcpp"),
    ),
    "ooba": _openai_text("ooba"),
    "tabby": _openai_text("tabby"),
    "vllm": _openai_text("vllm"),
    "mancer": _openai_text("mancer"),
    "dreamgen": _openai_text("dreamgen"),
    "llamacpp": FakeBackend(
        lambda plan, key: llamacpp.create_app(plan, key=key, token_delay=0.02),
        _secret("llamacpp"),
    ),
    "ollama": FakeBackend(
        lambda plan, key: ollama.create_app(plan, token_delay=0.02),
        _secret("ollama"),
        model=ollama.MODELS[0],
    ),
    "horde": FakeBackend(
        lambda plan, key: horde.create_app(plan, polls=1),
        "good-key-123",
        path="/api",
        options={"poll_interval": 0.05},
        faults=("429", "500", "stall", "html"),
        why="AI Horde is polled (no stream to cut or break)",
    ),
    "novelai": FakeBackend(
        lambda plan, key: novelai.create_app(plan, key=key),
        _secret("novelai"),
        model="llama-3-erato-v1",
    ),
    "openai": FakeBackend(
        lambda plan, key: openai_fake.create_app(plan, key=key),
        _secret("openai"),
        model="gpt-4o-mini",
        path="/v1",
    ),
    "openrouter": openai_compatible("openrouter", path="/api/v1"),
    "custom": FakeBackend(
        lambda plan, key: openai_fake.create_app(plan, key=key),
        _secret("custom"),
        model="gpt-4o-mini",
        path="/v1",
    ),
    "claude": FakeBackend(
        lambda plan, key: anthropic_fake.create_app(plan, key=key),
        _secret("claude"),
        model="claude-haiku-4-5",
    ),
    "gemini": FakeBackend(
        lambda plan, key: gemini_fake.create_app(plan, key=key),
        _secret("gemini"),
        model=gemini_fake.MODELS[0],
    ),
    **{api: _chat_flavour(api) for api in flavours_chat.FAKES},
    **{api: _native(api) for api in flavours_native.FAKES},
    **{api: _text_flavour(api) for api in flavours_text.FAKES},
}


class EchoCredentials:
    """ASGI wrapper: while ``armed``, every request is refused with HTTP 400 and an error
    body (in the common JSON shapes) that quotes the credentials it was sent, as some real
    services do. The provider's error text must not carry the key on."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.armed = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.armed:
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        sent = [headers[name] for name in AUTH_HEADERS if name in headers]
        sent.append(scope.get("query_string", b"").decode())
        said = f"invalid credentials: {' '.join(sent)}"
        body = {
            "error": {"message": said, "type": "invalid_request_error", "code": 400},
            "detail": said,
            "message": said,
        }
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})
