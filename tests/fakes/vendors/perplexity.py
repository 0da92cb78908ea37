"""Perplexity's API: ``/chat/completions`` at the root, no model list, OpenAI-shaped errors;
it refuses turns that do not alternate after the system messages, and (as SillyTavern
treats it) takes no ``stop`` and a ``frequency_penalty`` above 0 (1 = none). Every chunk
and answer carries the ``citations`` and ``search_results`` of the web search."""

from __future__ import annotations

from typing import Any

from tests.fakes.openai_vendor import FlavourFake, Refusal, Vendor

KEY = "pplx-fake-0123456789abcdef"
CITATIONS = ["https://example.org/a", "https://example.org/b"]


def refuse(body: dict[str, Any]) -> Refusal | None:
    """Perplexity's checks on a request body."""
    roles = [m.get("role") for m in body["messages"] if m.get("role") != "system"]
    leading = next((i for i, m in enumerate(body["messages"]) if m.get("role") != "system"), 0)
    late_system = any(m.get("role") == "system" for m in body["messages"][leading:])
    expected = ["user" if i % 2 == 0 else "assistant" for i in range(len(roles))]
    if late_system or roles != expected:
        return (
            400,
            "After the (optional) system message(s), user and assistant roles should be "
            "alternating.",
        )
    if "stop" in body:
        return (400, "stop is not supported")
    if "frequency_penalty" in body and body["frequency_penalty"] <= 0:
        return (400, "frequency_penalty must be greater than 0")
    return None


def citations(body: dict[str, Any]) -> dict[str, Any]:
    """The search fields Perplexity adds to every chunk and answer."""
    results = [{"title": f"Source {i}", "url": url} for i, url in enumerate(CITATIONS, 1)]
    return {"citations": CITATIONS, "search_results": results}


VENDOR = Vendor(
    "perplexity",
    KEY,
    ("sonar", "sonar-pro", "sonar-reasoning-pro"),
    prefix="",
    refuse=refuse,
    extra_fields=citations,
    think_in_text=frozenset({"sonar-reasoning-pro"}),
    models_path=None,
    unknown_model=(400, "Invalid model '{model}'. Permitted models can be found in the docs."),
)

FAKE = FlavourFake(VENDOR, "sonar", path="")
