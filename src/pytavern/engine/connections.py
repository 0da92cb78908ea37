"""Turning stored connections into providers: key resolution, option checks, the backend
types the faces show, model choice and a provider cache."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pytavern.engine.key_pool import usable_key
from pytavern.errors import ConfigError, PytavernError
from pytavern.providers import create_provider, get_spec, specs
from pytavern.providers.base import ConnectionConfig, Provider
from pytavern.providers.spec import GROUP_LABELS, BackendSpec
from pytavern.secrets import KeyInfo, SecretStore, describe_key
from pytavern.store import ConnectionRecord, Store

log = logging.getLogger(__name__)

ENGINE_OPTIONS = frozenset({"key_env", "key_envs", "fallback", "chars_per_token"})
"""Connection options the engine reads itself; providers never see them (so a learned
``chars_per_token`` does not count as a new configuration and replace the provider)."""


def resolve_key(record: ConnectionRecord, secrets: SecretStore) -> tuple[str | None, str | None]:
    """The key for a connection and where it came from.

    Order: the keys stored for this connection, then the variables named by its ``key_env``
    and ``key_envs`` options, then the API type's usual variable (``OPENAI_API_KEY``...);
    a key parked after a refusal (or resting after a rate limit) is passed over while
    another one is usable (see ``pytavern.engine.key_pool``).
    """
    candidate = usable_key(record, secrets)
    if candidate is None:
        return None, None
    return candidate.key, candidate.source


def key_info(record: ConnectionRecord, secrets: SecretStore) -> KeyInfo:
    """What may be shown about a connection's key."""
    key, source = resolve_key(record, secrets)
    return describe_key(key, source)


def connection_config(record: ConnectionRecord, secrets: SecretStore) -> ConnectionConfig:
    """The provider configuration of a stored connection, with its key resolved."""
    api_type = get_spec(record.api)
    url = record.url or api_type.default_url
    if api_type.needs_url and not url:
        raise ConfigError(
            f"connection {record.name!r} has no URL",
            hint=f"Set it with `pytavern connections add {record.name} --api {record.api} "
            "--url URL`",
        )
    key, _source = resolve_key(record, secrets)
    options = dict(_provider_options(record, api_type))
    model = record.model or api_type.default_model
    return ConnectionConfig(
        name=record.name, api=record.api, url=url, model=model, key=key, options=options
    )


def _provider_options(record: ConnectionRecord, api_type: BackendSpec) -> dict[str, Any]:
    """The options a provider gets, checked once per stored record (a turn reuses the
    record it read while the library is unchanged; checking took a validation per turn)."""
    checked = _checked_options.get(id(record))
    if checked is not None and checked[0] is record:
        return checked[1]
    usable = usable_options(record.name, api_type, record.options)
    options = {k: v for k, v in usable.items() if k not in ENGINE_OPTIONS}
    if len(_checked_options) >= _RECORDS_CHECKED:
        _checked_options.clear()
    _checked_options[id(record)] = (record, options)
    return options


_checked_options: dict[int, tuple[ConnectionRecord, dict[str, Any]]] = {}
"""Provider options by the record they were checked for (kept with it: ids are reused)."""
_RECORDS_CHECKED = 64


@dataclass(frozen=True, slots=True)
class BackendOptionInfo:
    """One option an API type takes: name, type, default and what it does."""

    name: str
    type: str
    default: Any
    help: str
    common: bool
    """Shared by every backend of its kind (timeouts, retries, key variable...)."""


@dataclass(frozen=True, slots=True)
class BackendTypeInfo:
    """What the faces show about one API type (``connections types``, ``/api/api-types``)."""

    name: str
    label: str
    group: str
    group_label: str
    family: str
    needs_url: bool
    default_url: str | None
    key_env: str | None
    key_required: bool
    default_model: str | None
    options: tuple[BackendOptionInfo, ...]

    def to_dict(self) -> dict[str, Any]:
        """The info as JSON-ready data."""
        return dataclasses.asdict(self)


def backend_types() -> list[BackendTypeInfo]:
    """Every registered API type with its options, grouped in the UI's group order
    (chat, text, kobold, novelai, horde, local), registry order within a group."""
    rank = {group: index for index, group in enumerate(GROUP_LABELS)}
    return [_type_info(spec) for spec in sorted(specs(), key=lambda spec: rank[spec.group])]


def _type_info(spec: BackendSpec) -> BackendTypeInfo:
    options = tuple(
        BackendOptionInfo(info.name, info.type, info.default, info.help, info.common)
        for info in spec.option_infos()
    )
    return BackendTypeInfo(
        name=spec.name,
        label=spec.label,
        group=spec.group,
        group_label=spec.group_label,
        family=spec.family,
        needs_url=spec.needs_url,
        default_url=spec.default_url,
        key_env=spec.key_env,
        key_required=spec.key_required,
        default_model=spec.default_model,
        options=options,
    )


def validate_options(api: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` checked for API type ``api`` (what to store: only the options set).

    Raises ``ConfigError`` for an unknown API type, an unknown option or a wrong type, with
    the valid options in its hint; nothing is changed.
    """
    return get_spec(api).validate_options(options)


def usable_options(name: str, spec: BackendSpec, options: Mapping[str, Any]) -> dict[str, Any]:
    """A stored connection's options with the invalid ones left out, each logged as a
    warning (names only: a value may be a secret), so an old connection still loads."""
    kept, problems = spec.usable_options(options)
    for problem in problems:
        if (name, problem) not in _warned:
            _warned.add((name, problem))
            log.warning("connection %r: %s; ignored", name, problem)
    return kept


_warned: set[tuple[str, str]] = set()
"""The option problems already logged (each is logged once per process, not every turn)."""


async def provider_with_model(config: ConnectionConfig) -> Provider:
    """The provider for ``config``; an API type that needs a model and has none set (nor
    a default one) gets the first model the backend lists, or a ``ConfigError`` with the fix."""
    provider = create_provider(config)
    if config.model or not get_spec(config.api).needs_model:
        return provider
    try:
        model = await first_model(provider, config)
    finally:
        await provider.aclose()
    return create_provider(dataclasses.replace(config, model=model))


async def first_model(provider: Provider, config: ConnectionConfig) -> str:
    """The first model ``provider`` lists; ``ConfigError`` saying how to set one otherwise."""
    fix = (
        f"Set a model: `pytavern connections add {config.name} --api {config.api} "
        f"--model MODEL` (see `pytavern connections models {config.name}`)"
    )
    try:
        models = await provider.list_models()
    except PytavernError as error:
        raise ConfigError(
            f"connection {config.name!r} has no model set, and its model list could not be "
            f"read: {error.message}",
            hint=f"{error.hint.rstrip('.')}; or {fix[0].lower()}{fix[1:]}" if error.hint else fix,
        ) from None
    if not models:
        raise ConfigError(
            f"connection {config.name!r} has no model set and the backend lists none",
            hint=fix,
        )
    return models[0].id


class ProviderPool:
    """One provider per connection, reused while its configuration is unchanged."""

    def __init__(self, store: Store, secrets: SecretStore) -> None:
        self._store = store
        self._secrets = secrets
        self._providers: dict[str, tuple[ConnectionConfig, Provider]] = {}

    def resolve(self, name: str | None) -> ConnectionRecord:
        """The named connection, or the default one."""
        return self._store.get_connection(name) if name else self._store.default_connection()

    async def get(self, record: ConnectionRecord) -> Provider:
        """The provider for ``record``, created on first use."""
        return await self.get_for(connection_config(record, self._secrets))

    async def get_for(self, config: ConnectionConfig) -> Provider:
        """The provider for a resolved connection ``config``, created on first use."""
        cached = self._providers.get(config.name)
        if cached is not None:
            if cached[0] == config:
                return cached[1]
            await cached[1].aclose()
        provider = await provider_with_model(config)
        self._providers[config.name] = (config, provider)
        return provider

    async def aclose(self) -> None:
        """Close every provider."""
        providers = [provider for _config, provider in self._providers.values()]
        self._providers.clear()
        for provider in providers:
            await provider.aclose()
