"""Connections: add, edit, remove, list, default, keys, test and models.

Both faces and the Python API call these, so a connection added from the CLI and from the
REST API is saved by the same function and described in the same shape
(:meth:`ConnectionView.to_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pytavern.engine.connections import (
    BackendTypeInfo,
    backend_types,
    connection_config,
    key_info,
    validate_options,
)
from pytavern.engine.key_pool import KeyStatus, clear_parked, key_statuses
from pytavern.engine.services._base import Service
from pytavern.errors import ConfigError, PytavernError
from pytavern.providers import ApiType, api_types, get_api_type
from pytavern.secrets import KeyInfo
from pytavern.store import ConnectionRecord
from pytavern.types import ConnectionStatus, ModelInfo

__all__ = [
    "ApiType",
    "BackendTypeInfo",
    "ConnectionInput",
    "ConnectionService",
    "ConnectionView",
    "api_type_infos",
]


@dataclass(frozen=True, slots=True)
class ConnectionInput:
    """The settings of a connection to save.

    ``key`` is stored apart from the rest (write-only); ``key_env`` names an environment
    variable read at each use instead. ``keys`` and ``key_envs`` add more of each, tried in
    order when a key is refused or rate limited. ``fallback`` names the connections to try,
    in order, when this one fails before answering. ``options`` are the backend's own
    settings.
    """

    name: str
    api: str
    url: str | None = None
    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    key: str | None = None
    key_env: str | None = None
    make_default: bool = False
    keys: tuple[str, ...] = ()
    key_envs: tuple[str, ...] = ()
    fallback: tuple[str, ...] = ()

    def all_keys(self) -> list[str]:
        """Every key given, in order."""
        return [key for key in (self.key, *self.keys) if key]

    def all_key_envs(self) -> list[str]:
        """Every key variable given, in order."""
        return [name for name in (self.key_env, *self.key_envs) if name]


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """A connection as every face shows it: its settings and what may be said of its key."""

    name: str
    api: str
    url: str | None
    effective_url: str | None
    model: str | None
    options: dict[str, Any]
    is_default: bool
    key: KeyInfo
    keys: tuple[KeyStatus, ...] = ()
    """Each key the connection may use, with its state ("key ...abcd: refused at 14:02")."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a connection (the CLI's ``--json`` and the REST API's)."""
        return {
            "name": self.name,
            "api": self.api,
            "url": self.url,
            "effective_url": self.effective_url,
            "model": self.model,
            "options": dict(self.options),
            "is_default": self.is_default,
            "key": self.key.to_dict(),
            "keys": [status.to_dict() for status in self.keys],
            "fallback": list(self.options.get("fallback") or []),
        }


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """The outcome of testing a connection, with the sampler settings it takes."""

    name: str
    status: ConnectionStatus
    samplers: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a check."""
        return {"name": self.name, **self.status.to_dict(), "samplers": self.samplers}


class ConnectionService(Service):
    """Everything about connections to LLM backends."""

    def view(self, record: ConnectionRecord) -> ConnectionView:
        """Describe a stored connection (never its key, only whether one is set)."""
        return ConnectionView(
            name=record.name,
            api=record.api,
            url=record.url,
            effective_url=record.url or get_api_type(record.api).default_url,
            model=record.model,
            options=dict(record.options),
            is_default=record.is_default,
            key=key_info(record, self._engine.secrets),
            keys=tuple(key_statuses(record, self._engine.secrets)),
        )

    def all(self) -> list[ConnectionView]:
        """Every connection."""
        return [self.view(record) for record in self._engine.store.list_connections()]

    def get(self, name: str) -> ConnectionView:
        """One connection (``NotFoundError`` when there is none of that name)."""
        return self.view(self._engine.store.get_connection(name))

    def names(self) -> set[str]:
        """The names of every connection."""
        return {record.name for record in self._engine.store.list_connections()}

    def add(self, spec: ConnectionInput, *, replace: bool = True) -> ConnectionView:
        """Save a connection (its key apart); with ``replace`` false an existing name is an
        error. The configuration is checked before the answer (a missing URL says so)."""
        keys, variables = spec.all_keys(), spec.all_key_envs()
        if keys and variables:
            raise ConfigError("give keys or key variables, not both")
        if not replace and spec.name in self.names():
            raise ConfigError(
                f"a connection named {spec.name!r} already exists", hint="Pick another name"
            )
        options = dict(spec.options)
        if variables:
            options["key_env"] = variables[0]
            options.pop("key_envs", None)
            if variables[1:]:
                options["key_envs"] = variables[1:]
        if spec.fallback:
            options["fallback"] = self._check_fallback(spec.name, list(spec.fallback))
        record = self._save(spec.name, spec.api, spec.url, spec.model, options)
        if keys:
            self._engine.secrets.set_keys(spec.name, keys)
            clear_parked(self._engine.secrets, spec.name)
        if spec.make_default:
            record = self._engine.store.set_default_connection(spec.name)
        return self.view(record)

    def _check_fallback(self, name: str, chain: list[str]) -> list[str]:
        """``chain`` checked: existing connections, not ``name`` itself, each once."""
        known = self.names()
        for other in chain:
            if other == name:
                raise ConfigError(
                    f"connection {name!r} cannot fall back to itself",
                    hint="Name other connections with --fallback",
                )
            if other not in known:
                raise ConfigError(
                    f"the fallback connection {other!r} does not exist",
                    hint=f"Add it first (`pytavern connections add {other} --api TYPE ...`)",
                )
        return list(dict.fromkeys(chain))

    def update(
        self,
        name: str,
        *,
        api: str,
        url: str | None = None,
        model: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> ConnectionView:
        """Change an existing connection's API, URL, model or options (its key stays)."""
        self._engine.store.get_connection(name)
        options = dict(options or {})
        chain = options.get("fallback")
        if isinstance(chain, list) and chain:
            options["fallback"] = self._check_fallback(name, [str(n) for n in chain])
        return self.view(self._save(name, api, url, model, options))

    def _save(
        self, name: str, api: str, url: str | None, model: str | None, options: dict[str, Any]
    ) -> ConnectionRecord:
        checked = validate_options(api, options)
        record = self._engine.store.save_connection(
            name=name,
            api=api,
            url=(url or "").strip() or None,
            model=model or None,
            options=checked,
        )
        connection_config(record, self._engine.secrets)
        return record

    def remove(self, name: str) -> None:
        """Delete a connection and its stored key."""
        self._engine.store.remove_connection(name)
        self._engine.secrets.delete(name)

    def set_default(self, name: str) -> ConnectionView:
        """Make ``name`` the default connection."""
        return self.view(self._engine.store.set_default_connection(name))

    def default_name(self, name: str | None = None) -> str:
        """The name of the connection a turn uses: ``name``, else the default one."""
        return self._engine.providers.resolve(name).name

    def key(self, name: str) -> KeyInfo:
        """Whether a key is set for ``name``, and its last four characters."""
        return key_info(self._engine.store.get_connection(name), self._engine.secrets)

    def set_key(self, name: str, key: str) -> KeyInfo:
        """Store the connection's key."""
        record = self._engine.store.get_connection(name)
        self._engine.secrets.set(name, key)
        clear_parked(self._engine.secrets, name)
        return key_info(record, self._engine.secrets)

    def set_keys(self, name: str, keys: list[str]) -> list[KeyStatus]:
        """Store the connection's keys (tried in order), replacing the stored ones."""
        record = self._engine.store.get_connection(name)
        if not [key for key in keys if key.strip()]:
            raise ConfigError("no key given", hint="Give at least one key")
        self._engine.secrets.set_keys(name, keys)
        clear_parked(self._engine.secrets, name)
        return key_statuses(record, self._engine.secrets)

    def key_statuses(self, name: str) -> list[KeyStatus]:
        """Each key the connection may use and its state (never a key itself)."""
        return key_statuses(self._engine.store.get_connection(name), self._engine.secrets)

    def delete_key(self, name: str) -> KeyInfo:
        """Forget the connection's stored key."""
        record = self._engine.store.get_connection(name)
        self._engine.secrets.delete(name)
        return key_info(record, self._engine.secrets)

    async def test(self, name: str, *, missing_fails: bool = False) -> ConnectionCheck:
        """Check a connection for real; configuration and backend problems become a failed
        status. A connection that does not exist raises ``NotFoundError``, unless
        ``missing_fails`` makes it a failed status too (the command line's answer)."""
        if not missing_fails:
            self._engine.store.get_connection(name)
        try:
            _record, provider = await self._engine.provider(name)
            status = await provider.check()
            samplers = sorted(provider.supported_samplers())
        except PytavernError as error:
            status = ConnectionStatus(ok=False, summary=error.message, hint=error.hint)
            samplers = []
        return ConnectionCheck(name=name, status=status, samplers=samplers)

    async def models(self, name: str) -> list[ModelInfo]:
        """The models the connection's backend offers."""
        _record, provider = await self._engine.provider(name)
        return await provider.list_models()

    async def samplers(self, name: str) -> list[str]:
        """The sampler settings the connection's backend takes."""
        _record, provider = await self._engine.provider(name)
        return sorted(provider.supported_samplers())


def api_type_infos() -> list[BackendTypeInfo]:
    """Every API type as declared by its backend: name, label, group, default URL, key
    variable and options (``connections types`` and the web UI's connection panel)."""
    return backend_types()


def known_api_types() -> dict[str, ApiType]:
    """Every registered API type by name."""
    return api_types()


def model_to_dict(model: ModelInfo) -> dict[str, Any]:
    """The JSON shape of a model a backend offers."""
    return {"id": model.id, "name": model.name, "context_length": model.context_length}
