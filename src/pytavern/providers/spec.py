"""What a backend declares about itself: its ``BackendSpec`` and typed connection options.

Every backend module declares one ``SPEC`` (or a tuple ``SPECS``) next to its provider
class; the registry (``providers/__init__.py``) only lists module names. Everything else
(the server's API-type list, the UI's groups, the prompt builder's choices, option
validation, the CLI's ``connections types``) reads these declarations.

This module is cheap to import: pydantic, the standard library and the provider contract.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pytavern.errors import ConfigError
from pytavern.providers.base import Family

if TYPE_CHECKING:
    from pytavern.providers.base import ConnectionConfig, Provider

Group = Literal["chat", "text", "kobold", "novelai", "horde", "local"]
TokenizerKind = Literal["openai-bpe", "claude", "gemini", "llama3", "backend", "local", "estimate"]
"""How prompts are counted: OpenAI's BPE (tiktoken), a remote count endpoint of the vendor
(``claude``, ``gemini``), NovelAI's Llama 3 vocabulary, the backend's own tokenize endpoint
(``backend``), the built-in model's vocabulary (``local``), or the learned estimate."""

GROUP_LABELS: dict[str, str] = {
    "chat": "Chat Completion",
    "text": "Text Completion",
    "kobold": "KoboldAI",
    "novelai": "NovelAI",
    "horde": "AI Horde",
    "local": "Built-in model",
}
"""The UI's names of SillyTavern's API groups, in the order the panel shows them."""


class CommonOptions(BaseModel):
    """Options every connection takes (read by the engine, never sent to the backend)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    key_env: str | None = Field(
        None, description="Environment variable to read the API key from at each use."
    )
    key_envs: list[str] | None = Field(
        None, description="More environment variables holding keys, tried in order."
    )
    fallback: list[str] | None = Field(
        None,
        description="Connections to try, in order, when this one fails before its first byte.",
    )
    chars_per_token: float | None = Field(
        None, gt=0, description="Learned characters per token (kept up to date by pytavern)."
    )
    sampling: dict[str, Any] | None = Field(
        None, description="Sampler settings for this connection, over the global preferences."
    )


class HttpOptions(CommonOptions):
    """Options of every backend reached over HTTP: timeouts and retries."""

    timeout_connect: float = Field(10.0, gt=0, description="Seconds to wait for a connection.")
    timeout_first_byte: float = Field(
        300.0, gt=0, description="Seconds to wait for the first byte of a reply."
    )
    timeout_gap: float = Field(
        120.0, gt=0, description="Seconds of silence allowed inside a streamed reply."
    )
    max_retries: int = Field(
        2, ge=0, description="Retries of a refused or failed request (429, 5xx...)."
    )
    retry_base_delay: float = Field(0.5, ge=0, description="First retry delay in seconds.")
    retry_max_delay: float = Field(20.0, ge=0, description="Longest retry delay in seconds.")


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do beyond check / list models / stream."""

    prefill: bool = False
    """Continues a final assistant message (Claude's prefill) instead of a new turn."""
    context_limit: bool = False
    """Reports the context size of the loaded model."""
    load_unload: bool = False
    """Loads or unloads models on request."""
    token_counting: bool = False
    """Counts tokens with the backend's own tokenizer (``Provider.count_tokens``)."""
    model_list: bool = True
    """Lists models (``Provider.list_models`` answers from the backend)."""


NO_EXTRAS = Capabilities()
"""Check, list models and stream only."""


@dataclass(frozen=True, slots=True)
class OptionInfo:
    """One connection option as ``connections types`` shows it."""

    name: str
    type: str
    default: Any
    help: str
    common: bool
    """Taken by every backend of its kind (timeouts, retries, key variable...)."""


@dataclass(frozen=True, slots=True)
class BackendSpec:
    """Everything pytavern knows about one API type, declared in its backend module.

    ``provider`` is the backend's provider class (its module imports the HTTP client or
    the model runtime only when a provider is built). ``sampler_table`` names the mapping
    in ``_samplers`` for text backends (``None`` for chat APIs, which take OpenAI-style
    names). ``flavour`` is backend-private configuration (an OpenAI-compatible flavour's
    quirks and hooks).
    """

    name: str
    label: str
    group: Group
    family: Family
    provider: Callable[[ConnectionConfig], Provider]
    options: type[CommonOptions] = HttpOptions
    default_url: str | None = None
    needs_url: bool = True
    key_env: str | None = None
    key_required: bool = False
    sampler_table: str | None = None
    tokenizer: TokenizerKind = "estimate"
    default_model: str | None = None
    needs_model: bool = False
    """The backend refuses a request without a model (so one is chosen or ``test`` fails)."""
    embedding_model: str | None = None
    """The model that makes embeddings when none is named (the chat models of the API make
    none); ``None``: the connection's own model."""
    capabilities: Capabilities = field(default_factory=Capabilities)
    sampler_defaults: Literal["family", "kobold-classic", "none"] = "family"
    """Which of SillyTavern's default sampler presets a request starts from: its family's
    (text-generation settings or the OpenAI "Default"), KoboldAI Classic's "RecoveredRuins",
    or none (the backend's own defaults apply)."""
    sampler_order_defaults: str | None = None
    """The name of SillyTavern's default sampler order the backend takes (a key of
    ``engine.sampler_defaults.TEXTGEN_ORDERS``), if any."""
    flavour: Any = None

    @property
    def group_label(self) -> str:
        """The UI's name of the spec's group."""
        return GROUP_LABELS[self.group]

    def provider_class(self) -> Callable[[ConnectionConfig], Provider]:
        """The provider class."""
        return self.provider

    def option_infos(self) -> list[OptionInfo]:
        """The connection options this API type takes, with type, default and help."""
        schema = self.options.model_json_schema()["properties"]
        infos: list[OptionInfo] = []
        for name, info in self.options.model_fields.items():
            infos.append(
                OptionInfo(
                    name=name,
                    type=_type_name(schema.get(name, {})),
                    default=info.get_default(call_default_factory=True),
                    help=info.description or "",
                    common=name in HttpOptions.model_fields,
                )
            )
        return infos

    def validate_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` checked against the spec's model; only what was set is returned.

        Raises ``ConfigError`` naming the valid options on an unknown name or a wrong type.
        """
        try:
            model = self.options.model_validate(dict(options))
        except ValidationError as exc:
            raise ConfigError(
                f"invalid option for API type {self.name!r}: {_first_problem(exc)}",
                hint=f"Valid options for {self.name}: {', '.join(self.options.model_fields)}",
            ) from None
        return model.model_dump(mode="json", exclude_unset=True)

    def usable_options(self, options: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """``options`` without the invalid ones, and what was wrong with each (no values).

        For stored connections: an option that is unknown or of the wrong type is left out
        instead of failing the whole connection.
        """
        kept = dict(options)
        problems: list[str] = []
        while kept:
            try:
                self.options.model_validate(kept)
            except ValidationError as exc:
                bad = {error["loc"][0] for error in exc.errors() if error["loc"]}
                bad_names = sorted(str(name) for name in bad if name in kept)
                if not bad_names:
                    return {}, [*problems, _first_problem(exc)]
                problems.extend(_problem(error) for error in exc.errors() if error["loc"])
                for name in bad_names:
                    del kept[name]
                continue
            break
        return kept, problems


def _problem(error: Any) -> str:
    """One validation error in words, without the rejected value (it may be a secret)."""
    where = ".".join(str(part) for part in error["loc"]) or "options"
    if error["type"] == "extra_forbidden":
        return f"unknown option {where!r}"
    return f"option {where!r}: {error['msg']}"


def _first_problem(exc: ValidationError) -> str:
    """The first error of ``exc`` in words, without the rejected value (it may be a secret)."""
    return _problem(exc.errors()[0])


_JSON_TYPES = {
    "string": "string",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "object": "object",
    "array": "list",
}


def _type_name(schema: Mapping[str, Any]) -> str:
    """A short type name from a field's JSON schema (``float``, ``list[string]``...)."""
    if "anyOf" in schema:
        names = [_type_name(part) for part in schema["anyOf"] if part.get("type") != "null"]
        return " | ".join(names) or "any"
    if "enum" in schema:
        return " | ".join(repr(value) for value in schema["enum"])
    kind = _JSON_TYPES.get(str(schema.get("type")), "any")
    if kind == "list" and isinstance(schema.get("items"), dict):
        return f"list[{_type_name(schema['items'])}]"
    return kind
