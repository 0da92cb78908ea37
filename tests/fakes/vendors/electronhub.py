"""Electron Hub's API as documented: OpenAI-compatible routes and error bodies, keys
starting with ``ek-``."""

from __future__ import annotations

from tests.fakes.openai_vendor import FlavourFake, Vendor

KEY = "ek-fake0123456789abcdef"

VENDOR = Vendor(
    "electronhub",
    KEY,
    ["gpt-4o-mini", "claude-sonnet-4-20250514"],
    prefix="/v1",
    unknown_model=[404, "Model {model} not found"],
    bad_key=[401, "Invalid API key"],
)

FAKE = FlavourFake(VENDOR, "gpt-4o-mini", path="/v1")
