"""Settings kept as one JSON document under a key, read into a pydantic model."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from pytavern.errors import ConfigError
from pytavern.store import Store

ModelT = TypeVar("ModelT", bound=BaseModel)


def load_setting(store: Store, key: str, model: type[ModelT], *, what: str, hint: str) -> ModelT:
    """The setting ``key`` as ``model`` (its defaults when never set); a stored value that
    no longer fits is a ``ConfigError`` saying ``what`` is not valid, with ``hint``."""
    with store.queries() as queries:
        text = queries.setting_json(key)
    try:
        return model.model_validate_json(text or "{}")
    except ValidationError as exc:
        raise ConfigError(f"the stored {what} are not valid", hint=hint) from exc


def save_setting(store: Store, key: str, value: BaseModel) -> None:
    """Store ``value`` as the setting ``key``."""
    store.set_setting(key, value.model_dump())
