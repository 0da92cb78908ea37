"""Hot statements run straight on the database driver's cursor, compiled once per dialect.

Executing a cached Core statement still costs SQLAlchemy about 0.1 ms of Python per
statement (cache key, execution context, result object), several times what SQLite takes
to run a small one; a chat turn runs a handful before its first token. A ``LeanStatement``
compiles its Core statement once per dialect and then only fills the driver's parameters
and reads its rows. Values go through the same type processors Core uses (bind processors
in, result processors out), driver errors are raised as SQLAlchemy's ``DBAPIError``
family, and the statement runs inside the caller's ``Connection`` transaction.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Delete, Insert, Select, Update

LeanStatementKind = Select[*tuple[Any, ...]] | Insert | Update | Delete
Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One statement compiled for one dialect and one set of inserted columns."""

    sql: str
    plan: tuple[tuple[str, Processor | None], ...]
    """Each parameter's name and bind processor, in the driver's order."""
    positional: bool
    defaults: dict[str, Any]
    row_type: Callable[..., Any] | None
    readers: tuple[tuple[int, Processor], ...]
    """The columns read through a result processor (a date, a boolean): index and reader."""

    def parameters(self, params: Mapping[str, Any]) -> Any:
        """The driver's parameters: positional or named, values bound like Core binds."""
        values = {**self.defaults, **params} if self.defaults else params
        if self.positional:
            return tuple([values[n] if bind is None else bind(values[n]) for n, bind in self.plan])
        return {n: values[n] if bind is None else bind(values[n]) for n, bind in self.plan}

    def row(self, raw: Any) -> Any:
        """A driver row as a named tuple, each column read like Core reads it."""
        assert self.row_type is not None
        if not self.readers:
            return self.row_type(*raw)
        values = list(raw)
        for index, read in self.readers:
            values[index] = read(values[index])
        return self.row_type(*values)


class LeanStatement:
    """A Core statement executed on the DBAPI cursor of a ``Connection``."""

    def __init__(self, statement: LeanStatementKind) -> None:
        self.statement = statement
        self._compiled: dict[tuple[Any, ...], _Compiled] = {}
        self._inserts = isinstance(statement, Insert)
        self._last: tuple[Dialect, _Compiled] | None = None
        """The last dialect and what it compiled to (one dialect per process, as a rule)."""

    def all(self, connection: Connection, params: Mapping[str, Any]) -> list[Any]:
        """Run and return every row (named tuples)."""
        compiled, cursor = self._run(connection, params)
        try:
            return [compiled.row(raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()

    def first(self, connection: Connection, params: Mapping[str, Any]) -> Any | None:
        """Run and return the first row, or ``None``."""
        compiled, cursor = self._run(connection, params)
        try:
            raw = cursor.fetchone()
            return None if raw is None else compiled.row(raw)
        finally:
            cursor.close()

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> None:
        """Run a statement that returns no rows."""
        _compiled, cursor = self._run(connection, params)
        cursor.close()

    def execute_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a statement that returns no rows once per row, in one driver call (the rows
        of an insert all name the same columns)."""
        if not rows:
            return
        compiled = self._for(connection.dialect, rows[0])
        parameters = [compiled.parameters(row) for row in rows]
        _executed(connection, compiled.sql, parameters, many=True).close()

    def count(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows; how many rows it changed."""
        _compiled, cursor = self._run(connection, params)
        changed: int = cursor.rowcount
        cursor.close()
        return changed

    def _run(self, connection: Connection, params: Mapping[str, Any]) -> tuple[_Compiled, Any]:
        compiled = self._for(connection.dialect, params)
        return compiled, _executed(connection, compiled.sql, compiled.parameters(params))

    def _for(self, dialect: Dialect, params: Mapping[str, Any]) -> _Compiled:
        last = self._last
        if last is not None and last[0] is dialect and not self._inserts:
            return last[1]
        columns = tuple(params) if self._inserts else ()
        key = (type(dialect), dialect.paramstyle, dialect.server_version_info, columns)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _compile(self.statement, dialect, columns)
        self._last = (dialect, compiled)
        return compiled


def _executed(connection: Connection, sql: str, parameters: Any, *, many: bool = False) -> Any:
    """A driver cursor that has run ``sql`` (once per parameter set with ``many``); a driver
    error is raised as SQLAlchemy's ``DBAPIError`` family, the cursor closed."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
    except connection.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        shown = parameters[0] if many else parameters
        raise DBAPIError.instance(sql, shown, exc, connection.dialect.loaded_dbapi.Error) from exc
    return cursor


def _compile(statement: LeanStatementKind, dialect: Dialect, columns: tuple[str, ...]) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=list(columns) or None)
    binds = compiled.binds
    positional = compiled.positiontup is not None
    names = tuple(compiled.positiontup) if positional else tuple(binds)  # type: ignore[arg-type]
    plan: list[tuple[str, Processor | None]] = []
    defaults: dict[str, Any] = {}
    for name in names:
        bind = binds[name]
        plan.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect)))
        if not bind.required:
            defaults[name] = bind.effective_value
    exported = list(statement.exported_columns)
    processors = [
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in exported
    ]
    readers = tuple((index, read) for index, read in enumerate(processors) if read is not None)
    row_type = (
        namedtuple("LeanRow", [column.key for column in exported], rename=True)  # type: ignore[misc]
        if exported
        else None
    )
    return _Compiled(compiled.string, tuple(plan), positional, defaults, row_type, readers)
