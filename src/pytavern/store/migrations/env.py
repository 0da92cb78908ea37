"""Alembic environment: runs on the connection handed over by ``pytavern.store``."""

from __future__ import annotations

from alembic import context

from pytavern.store.schema import Base


def run_migrations() -> None:
    """Run the migrations on the connection in ``config.attributes``."""
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
