"""Stored connections: add, list, remove, choose the default."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from pytavern.errors import ConfigError
from pytavern.store._base import dumps, loads
from pytavern.store.queries import QueriesMixin, connection_record
from pytavern.store.records import ConnectionRecord
from pytavern.store.schema import ConnectionRow


class ConnectionsMixin(QueriesMixin):
    """Connection storage."""

    def save_connection(
        self,
        *,
        name: str,
        api: str,
        url: str | None = None,
        model: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> ConnectionRecord:
        """Create the connection ``name``, or replace its settings if it exists."""
        if not name.strip():
            raise ConfigError("a connection needs a name", hint="Give a short name, e.g. 'openai'")
        with self.transaction() as session:
            row = session.scalar(
                select(ConnectionRow).where(
                    ConnectionRow.owner_id == self.owner_id, ConnectionRow.name == name
                )
            )
            if row is None:
                has_default = session.scalar(
                    select(ConnectionRow.id).where(
                        ConnectionRow.owner_id == self.owner_id, ConnectionRow.is_default
                    )
                )
                row = ConnectionRow(
                    owner_id=self.owner_id, name=name, is_default=has_default is None
                )
                session.add(row)
            row.api, row.url, row.model = api, url, model
            row.options = dumps(options or {})
            session.flush()
            return connection_record(row)

    def list_connections(self) -> list[ConnectionRecord]:
        """Every connection, by name."""
        with self.transaction() as session:
            rows = session.scalars(
                select(ConnectionRow)
                .where(ConnectionRow.owner_id == self.owner_id)
                .order_by(ConnectionRow.name)
            )
            return [connection_record(row) for row in rows]

    def get_connection(self, name: str) -> ConnectionRecord:
        """The connection ``name``, or ``NotFoundError`` listing the ones there are."""
        with self.queries() as queries:
            return queries.connection(name)

    def default_connection(self) -> ConnectionRecord:
        """The default connection."""
        with self.queries() as queries:
            return queries.connection(None)

    def set_default_connection(self, name: str) -> ConnectionRecord:
        """Make ``name`` the default connection."""
        record = self.get_connection(name)
        with self.transaction() as session:
            session.execute(
                update(ConnectionRow)
                .where(ConnectionRow.owner_id == self.owner_id)
                .values(is_default=False)
            )
            session.execute(
                update(ConnectionRow).where(ConnectionRow.id == record.id).values(is_default=True)
            )
        return self.get_connection(name)

    def set_connection_option(self, connection_id: int, key: str, value: Any) -> None:
        """Set one option of a connection, keeping the others (a no-op when the connection
        is gone or belongs to another user)."""
        with self.transaction() as session:
            row = self.owned(session, ConnectionRow, connection_id)
            if row is not None:
                row.options = dumps({**loads(row.options), key: value})

    def remove_connection(self, name: str) -> None:
        """Delete the connection ``name``."""
        record = self.get_connection(name)
        with self.transaction() as session:
            row = self.owned(session, ConnectionRow, record.id)
            session.delete(row)
