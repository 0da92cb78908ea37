"""Turning stored connections into providers: key resolution and a provider cache."""

from __future__ import annotations

import os
from typing import Any

from pytavern.errors import ConfigError
from pytavern.providers import create_provider, get_api_type
from pytavern.providers.base import ConnectionConfig, Provider
from pytavern.secrets import KeyInfo, SecretStore, describe_key
from pytavern.store import ConnectionRecord, Store

ENGINE_OPTIONS = frozenset({"key_env", "chars_per_token"})
"""Connection options the engine reads itself; providers never see them (so a learned
``chars_per_token`` does not count as a new configuration and replace the provider)."""


def resolve_key(record: ConnectionRecord, secrets: SecretStore) -> tuple[str | None, str | None]:
    """The key for a connection and where it came from.

    Order: the key stored for this connection, then the variable named by its ``key_env``
    option, then the API type's usual variable (``OPENAI_API_KEY``...).
    """
    stored = secrets.get(record.name)
    if stored:
        return stored, "stored"
    for variable in (record.options.get("key_env"), get_api_type(record.api).key_env):
        if isinstance(variable, str) and os.environ.get(variable):
            return os.environ[variable], f"env:{variable}"
    return None, None


def key_info(record: ConnectionRecord, secrets: SecretStore) -> KeyInfo:
    """What may be shown about a connection's key."""
    key, source = resolve_key(record, secrets)
    return describe_key(key, source)


def connection_config(record: ConnectionRecord, secrets: SecretStore) -> ConnectionConfig:
    """The provider configuration of a stored connection, with its key resolved."""
    api_type = get_api_type(record.api)
    url = record.url or api_type.default_url
    if api_type.needs_url and not url:
        raise ConfigError(
            f"connection {record.name!r} has no URL",
            hint=f"Set it with `pytavern connections add {record.name} --api {record.api} "
            "--url URL`",
        )
    key, _source = resolve_key(record, secrets)
    options: dict[str, Any] = {k: v for k, v in record.options.items() if k not in ENGINE_OPTIONS}
    return ConnectionConfig(
        name=record.name, api=record.api, url=url, model=record.model, key=key, options=options
    )


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
        provider = create_provider(config)
        self._providers[config.name] = (config, provider)
        return provider

    async def aclose(self) -> None:
        """Close every provider."""
        providers = [provider for _config, provider in self._providers.values()]
        self._providers.clear()
        for provider in providers:
            await provider.aclose()
