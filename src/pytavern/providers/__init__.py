"""Backend registry: the modules that declare a ``BackendSpec``, read on first use.

Adding a backend is its module (declaring ``SPEC``, or ``SPECS`` for several API types)
plus one line in ``BACKEND_MODULES``; then its fake in ``tests/fakes`` and one entry in
``tests/contract/backends.py`` (the contract suite fails for a spec without one), and its
own tests. An OpenAI-compatible service is a flavour: its module is one
``openai_compat.openai_flavour(...)`` call (chat) or ``openai_text.openai_text_flavour(...)``
(text completions), see ``openrouter.py``. A third-party package adds a backend through the
entry point group ``pytavern.backends`` (each entry point names a module declaring ``SPEC``
or ``SPECS``). Listing specs imports only these modules: no HTTP client, no model runtime.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from functools import cache
from types import ModuleType

from pytavern.errors import ConfigError
from pytavern.providers.base import ConnectionConfig, Provider
from pytavern.providers.spec import BackendSpec

__all__ = [
    "BACKEND_MODULES",
    "ENTRY_POINT_GROUP",
    "ApiType",
    "ApiTypesWhere",
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
    # native wire formats
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
    # flavours and further backends, one line each, in alphabetical order
    "pytavern.providers.ai21",
    "pytavern.providers.aimlapi",
    "pytavern.providers.aphrodite",
    "pytavern.providers.azure",
    "pytavern.providers.bedrock",
    "pytavern.providers.chutes",
    "pytavern.providers.cloudflare",
    "pytavern.providers.cohere",
    "pytavern.providers.cometapi",
    "pytavern.providers.deepseek",
    "pytavern.providers.electronhub",
    "pytavern.providers.featherless",
    "pytavern.providers.fireworks",
    "pytavern.providers.generic_text",
    "pytavern.providers.groq",
    "pytavern.providers.huggingface",
    "pytavern.providers.infermaticai",
    "pytavern.providers.minimax",
    "pytavern.providers.mistral",
    "pytavern.providers.moonshot",
    "pytavern.providers.nanogpt",
    "pytavern.providers.openrouter",
    "pytavern.providers.perplexity",
    "pytavern.providers.pollinations",
    "pytavern.providers.siliconflow",
    "pytavern.providers.togetherai",
    "pytavern.providers.vertex",
    "pytavern.providers.xai",
    "pytavern.providers.zai",
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
    from importlib.metadata import entry_points  # read once, when the registry is built

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


class ApiTypesWhere:
    """The API types whose spec satisfies ``predicate``, tested with ``api in ...``
    (answers cached per name; an unknown API type is not in it)."""

    def __init__(self, predicate: Callable[[BackendSpec], bool]) -> None:
        self._predicate = predicate
        self._answers: dict[str, bool] = {}

    def __contains__(self, api: object) -> bool:
        if not isinstance(api, str):
            return False
        answer = self._answers.get(api)
        if answer is None:
            spec = registry().get(api)
            answer = self._answers[api] = spec is not None and self._predicate(spec)
        return answer


def create_provider(config: ConnectionConfig) -> Provider:
    """Build the provider for ``config``."""
    return get_spec(config.api).provider_class()(config)
