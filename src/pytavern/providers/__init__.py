"""Backend registry: the modules that declare a ``BackendSpec``, read on first use.

Adding a backend is its module (declaring ``SPEC``, or ``SPECS`` for several API types)
plus one line in ``BACKEND_MODULES``. A third-party package adds one through the entry
point group ``pytavern.backends`` (each entry point names a module declaring ``SPEC`` or
``SPECS``). Listing specs imports only those modules: no HTTP client, no model runtime.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType

from pytavern.errors import ConfigError
from pytavern.providers.base import ConnectionConfig, Provider
from pytavern.providers.spec import BackendSpec

__all__ = [
    "BACKEND_MODULES",
    "ENTRY_POINT_GROUP",
    "ApiType",
    "BackendSpec",
    "api_types",
    "create_provider",
    "get_api_type",
    "get_spec",
    "registry",
    "specs",
]

log = logging.getLogger(__name__)

BACKEND_MODULES: tuple[str, ...] = (
    "pytavern.providers.local",
    "pytavern.providers.kobold",
    "pytavern.providers.openai_text",
    "pytavern.providers.llamacpp",
    "pytavern.providers.ollama",
    "pytavern.providers.horde",
    "pytavern.providers.novelai",
    "pytavern.providers.openai_compat",
    "pytavern.providers.anthropic",
    "pytavern.providers.gemini",
    "pytavern.providers.openrouter",
    # OpenAI-compatible chat sources (h11b)
    "pytavern.providers.deepseek",
    "pytavern.providers.perplexity",
    "pytavern.providers.mistral",
    "pytavern.providers.cloudflare",
    "pytavern.providers.groq",
    "pytavern.providers.xai",
    "pytavern.providers.moonshot",
    "pytavern.providers.zai",
    "pytavern.providers.fireworks",
    "pytavern.providers.ai21",
    "pytavern.providers.siliconflow",
    "pytavern.providers.nanogpt",
    "pytavern.providers.chutes",
    "pytavern.providers.electronhub",
    "pytavern.providers.aimlapi",
    "pytavern.providers.cometapi",
    "pytavern.providers.minimax",
    "pytavern.providers.pollinations",
)
"""The built-in backend modules, in the order their API types are listed."""

ENTRY_POINT_GROUP = "pytavern.backends"

ApiType = BackendSpec
"""The former name of ``BackendSpec`` (same attributes: label, needs_url, key_env...)."""


def module_specs(module: ModuleType) -> tuple[BackendSpec, ...]:
    """The specs a backend module declares (``SPEC`` and/or ``SPECS``)."""
    declared: list[BackendSpec] = []
    single = getattr(module, "SPEC", None)
    if isinstance(single, BackendSpec):
        declared.append(single)
    declared.extend(s for s in getattr(module, "SPECS", ()) if isinstance(s, BackendSpec))
    if not declared:
        raise ConfigError(
            f"backend module {module.__name__!r} declares no SPEC",
            hint="Declare `SPEC = BackendSpec(...)` in it (see pytavern/providers/spec.py)",
        )
    return tuple(declared)


def _plugin_modules() -> list[str]:
    """Module names third-party packages register under ``pytavern.backends``."""
    return [entry.value.partition(":")[0] for entry in entry_points(group=ENTRY_POINT_GROUP)]


def _import_plugin(module_name: str) -> ModuleType | None:
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:  # a broken plugin must not take the built-ins down
        log.warning("backend module %s cannot be imported: %s", module_name, exc)
        return None


def _collect(builtin: Iterable[str], plugins: Iterable[str]) -> dict[str, BackendSpec]:
    found: dict[str, BackendSpec] = {}
    modules = [importlib.import_module(name) for name in builtin]
    modules.extend(m for m in map(_import_plugin, plugins) if m is not None)
    for module in modules:
        module_name = module.__name__
        for spec in module_specs(module):
            if spec.name in found:
                log.warning("API type %r declared twice; %s ignored", spec.name, module_name)
                continue
            found[spec.name] = spec
    return found


@cache
def registry() -> dict[str, BackendSpec]:
    """The live registry, API type name -> spec, built on first use (tests may add to it)."""
    return _collect(BACKEND_MODULES, _plugin_modules())


def specs() -> list[BackendSpec]:
    """Every registered backend spec, built-ins first, in registry order."""
    return list(registry().values())


def get_spec(api: str) -> BackendSpec:
    """The spec of API type ``api``, or a ``ConfigError`` listing the choices."""
    try:
        return registry()[api]
    except KeyError:
        choices = ", ".join(sorted(registry()))
        raise ConfigError(f"unknown API type {api!r}", hint=f"Choose one of: {choices}") from None


def api_types() -> dict[str, BackendSpec]:
    """Every registered API type by name (``specs()`` as a mapping)."""
    return dict(registry())


get_api_type = get_spec
"""The former name of ``get_spec``."""


def create_provider(config: ConnectionConfig) -> Provider:
    """Build the provider for ``config``."""
    return get_spec(config.api).provider_class()(config)
