"""FAKES for the OpenAI-compatible chat flavours of branch h11b: spec name -> its fake.

Each ``FlavourFake`` says how to start the service's fake (``app(plan)``, served with
``tests.fakes.server.serve``) and how to point a connection at it (``url(root)``, ``key``,
``model``, ``options``). The contract suite reads ``FAKES``; the flavour tests use it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from tests.fakes.openai_vendor import Vendor, create_app
from tests.fakes.server import FaultPlan


@dataclass(frozen=True)
class FlavourFake:
    """A flavour's fake service and the connection settings that reach it."""

    vendor: Vendor
    model: str
    path: str = "/v1"
    """Appended to the served root (``http://127.0.0.1:PORT``) to give the connection URL."""
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str | None:
        """The key the fake accepts (``None``: the service takes none)."""
        return self.vendor.key

    def app(self, plan: FaultPlan) -> FastAPI:
        """The fake service, faults drawn from ``plan``."""
        return create_app(plan, self.vendor)

    def url(self, root: str) -> str:
        """The connection URL for a fake served at ``root``."""
        return f"{root}{self.path}"


FAKES: dict[str, FlavourFake] = {}
