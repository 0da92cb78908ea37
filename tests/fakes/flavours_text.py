"""FAKES for the text-completion flavours: API type -> how to start its fake.

Each value is a ``FakeFactory``: called with a ``FaultPlan`` and the key the fake should
demand (``None``: no key), it serves the service's fake on 127.0.0.1 for the duration of
the ``with`` block and yields the ``ConnectionConfig`` that points at it (URL, key, model
and options). The contract suite (tests/contract/) runs every spec against its entry::

    with FAKES["togetherai"](plan, "sk-secret") as config:
        provider = create_provider(config)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pytavern.providers.base import ConnectionConfig
from tests.fakes.server import FaultPlan, serve
from tests.fakes.text_flavours import MODEL, create_app

FakeFactory = Callable[[FaultPlan, str | None], AbstractContextManager[ConnectionConfig]]


@dataclass(frozen=True, slots=True)
class FlavourConnection:
    """How a connection points at a text flavour's fake: the suffix appended to the served
    URL, the model and the options."""

    suffix: str = ""
    model: str | None = MODEL
    options: dict[str, Any] = field(default_factory=dict)

    def config(self, api: str, base: str, key: str | None) -> ConnectionConfig:
        """The connection to ``api``'s fake served at ``base`` that demands ``key``."""
        return ConnectionConfig(
            name=f"fake-{api}",
            api=api,
            url=base + self.suffix,
            key=key,
            model=self.model,
            options=dict(self.options),
        )


CONNECTIONS: dict[str, FlavourConnection] = {}
"""API type -> how its connection points at its fake (read by ``FAKES`` and the contract
suite, which serves ``text_flavours.create_app`` itself)."""


@contextmanager
def serve_flavour(api: str, plan: FaultPlan, key: str | None) -> Iterator[ConnectionConfig]:
    """Serve ``api``'s fake and yield a connection to it (``CONNECTIONS[api]``)."""
    with serve(create_app(plan, api, key=key)) as base:
        yield CONNECTIONS[api].config(api, base, key)


def factory(api: str, **kwargs: Any) -> FakeFactory:
    """Declare ``api``'s connection (keyword arguments as for ``FlavourConnection``) and
    return its ``FakeFactory``."""
    CONNECTIONS[api] = FlavourConnection(**kwargs)
    return partial(serve_flavour, api)


FAKES: dict[str, FakeFactory] = {}
"""API type -> its fake (one entry per text flavour, added with the flavour)."""
FAKES["generic"] = factory("generic")
FAKES["featherless"] = factory("featherless", suffix="/v1")
FAKES["togetherai"] = factory("togetherai")
FAKES["infermaticai"] = factory("infermaticai")
FAKES["huggingface"] = factory("huggingface", model=None)
FAKES["aphrodite"] = factory("aphrodite", suffix="/v1")
