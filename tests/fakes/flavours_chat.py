"""FAKES for the OpenAI-compatible chat flavours of branch h11b: spec name -> its fake.

Each ``FlavourFake`` (``tests.fakes.openai_vendor``) says how to start the service's fake
(``app(plan)``, served with ``tests.fakes.server.serve``) and how to point a connection at
it (``url(root)``, ``key``, ``model``, ``options``). The contract suite reads ``FAKES``; the
flavour tests use it too. One line per flavour.
"""

from __future__ import annotations

from tests.fakes.openai_vendor import FlavourFake
from tests.fakes.vendors import (
    ai21,
    aimlapi,
    chutes,
    cloudflare,
    cometapi,
    deepseek,
    electronhub,
    fireworks,
    groq,
    minimax,
    mistral,
    moonshot,
    nanogpt,
    perplexity,
    pollinations,
    siliconflow,
    xai,
    zai,
)

FAKES: dict[str, FlavourFake] = {
    "deepseek": deepseek.FAKE,
    "perplexity": perplexity.FAKE,
    "mistral": mistral.FAKE,
    "cloudflare": cloudflare.FAKE,
    "groq": groq.FAKE,
    "xai": xai.FAKE,
    "moonshot": moonshot.FAKE,
    "zai": zai.FAKE,
    "fireworks": fireworks.FAKE,
    "ai21": ai21.FAKE,
    "siliconflow": siliconflow.FAKE,
    "nanogpt": nanogpt.FAKE,
    "chutes": chutes.FAKE,
    "electronhub": electronhub.FAKE,
    "aimlapi": aimlapi.FAKE,
    "cometapi": cometapi.FAKE,
    "minimax": minimax.FAKE,
    "pollinations": pollinations.FAKE,
}
