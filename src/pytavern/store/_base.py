"""The store's shared core: one engine, short sessions, JSON helpers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pytavern.errors import StoreError


class StoreBase:
    """Holds the engine and hands out transactional sessions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed at the end of the block, or rolled back."""
        session = self._sessions()
        try:
            with session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(
                f"the database could not be written ({type(exc).__name__})",
                hint="Check free disk space and that no other program locks the database",
            ) from exc
        finally:
            session.close()


def dumps(value: Any) -> str:
    """Serialise a JSON value compactly."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | None) -> Any:
    """Parse stored JSON text (empty means an empty object)."""
    return json.loads(text) if text else {}
