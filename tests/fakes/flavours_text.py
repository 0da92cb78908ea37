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
from functools import partial
from typing import Any

from pytavern.providers.base import ConnectionConfig
from tests.fakes.server import FaultPlan, serve
from tests.fakes.text_flavours import MODEL, create_app

FakeFactory = Callable[[FaultPlan, str | None], AbstractContextManager[ConnectionConfig]]


@contextmanager
def serve_flavour(
    api: str,
    plan: FaultPlan,
    key: str | None,
    *,
    suffix: str = "",
    model: str | None = MODEL,
    options: dict[str, Any] | None = None,
) -> Iterator[ConnectionConfig]:
    """Serve ``api``'s fake and yield a connection to it (``suffix`` appended to its URL)."""
    with serve(create_app(plan, api, key=key)) as base:
        yield ConnectionConfig(
            name=f"fake-{api}",
            api=api,
            url=base + suffix,
            key=key,
            model=model,
            options=dict(options or {}),
        )


def factory(api: str, **kwargs: Any) -> FakeFactory:
    """The ``FakeFactory`` of ``api`` (keyword arguments as for ``serve_flavour``)."""
    return partial(serve_flavour, api, **kwargs)


FAKES: dict[str, FakeFactory] = {}
"""API type -> its fake (one entry per text flavour, added with the flavour)."""
FAKES["generic"] = factory("generic")
FAKES["featherless"] = factory("featherless", suffix="/v1")
FAKES["togetherai"] = factory("togetherai")
FAKES["infermaticai"] = factory("infermaticai")
FAKES["huggingface"] = factory("huggingface", model=None)
FAKES["aphrodite"] = factory("aphrodite", suffix="/v1")
