"""Core statements compiled once per dialect and run on the raw DBAPI cursor of a SQLAlchemy connection.

For the small statements on a notebook cell's path (create a run, end it, compare its metric), running a
prebuilt statement through SQLAlchemy costs several times what the database does. A :class:`Prepared`
keeps SQLAlchemy as the author of the SQL (dialect, quoting, parameter style) and only skips the
per-call machinery. Parameters are always bound, never formatted into the SQL. Like
:func:`~nbtrack.store.store.fetch_tuples`, it is only for nbtrack's numbers, strings, bytes and
booleans, which need no bind or result processing on SQLite or psycopg.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler


@contextlib.contextmanager
def driver_errors(conn: sa.Connection, sql: str, args: Any = None) -> Iterator[None]:
    """Raise the driver's errors as SQLAlchemy's (IntegrityError, OperationalError...), as
    ``conn.execute`` would, so callers and :meth:`Store.translate` see one kind of error."""
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as exc:
        raise sa.exc.DBAPIError.instance(sql, args, exc, dbapi_error) from exc


class Prepared:
    """One Core statement, compiled on first use for each dialect; run with :meth:`execute`/:meth:`many`."""

    def __init__(self, stmt: sa.ClauseElement) -> None:
        self.stmt = stmt
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _sql(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        found = self._compiled.get(dialect.name)
        if found is None:
            with self._lock:
                compiled = self.stmt.compile(dialect=dialect)
                assert isinstance(compiled, SQLCompiler)
                order = tuple(compiled.positiontup or ()) if compiled.positional else None
                # values the statement itself carries (``.where(name == "run_seq")``, ``value + 1``)
                fixed = {
                    name: bind.effective_value
                    for bind, name in compiled.bind_names.items()
                    if not bind.required and bind.callable is None and bind.value is not None
                }
                found = (str(compiled), order, fixed)
                self._compiled[dialect.name] = found
        return found

    @staticmethod
    def _args(order: tuple[str, ...] | None, fixed: dict[str, Any], params: Mapping[str, Any]) -> Any:
        values = {**fixed, **params} if fixed else params
        return tuple(values[name] for name in order) if order is not None else values

    def execute(self, conn: sa.Connection, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run once with ``params`` (every bound name) in ``conn``'s transaction; rows it returns, if any."""
        sql, order, fixed = self._sql(conn.dialect)
        args = self._args(order, fixed, params or {})
        cursor = conn.connection.cursor()
        try:
            with driver_errors(conn, sql, args):
                cursor.execute(sql, args)
                return list(cursor.fetchall()) if cursor.description is not None else []
        finally:
            cursor.close()

    def many(self, conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row (DBAPI ``executemany``) in ``conn``'s transaction."""
        if not rows:
            return
        sql, order, fixed = self._sql(conn.dialect)
        args = [self._args(order, fixed, row) for row in rows]
        cursor = conn.connection.cursor()
        try:
            with driver_errors(conn, sql, args[:1]):
                cursor.executemany(sql, args)
        finally:
            cursor.close()
