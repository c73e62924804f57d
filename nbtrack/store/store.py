"""A store: the engine of one URL, its artifact root, and transactions whose errors name the store.

Every database error that leaves this layer is a :class:`StoreError` carrying the store URL (password
hidden) and the cause, so a user sees which store failed and why.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nbtrack.errors import SchemaError, StoreError
from nbtrack.store.artifacts import ArtifactStore
from nbtrack.store.engine import (
    WRITE_OPTION,
    create_store_engine,
    display_url,
    sqlite_path,
)
from nbtrack.store.migrate import ensure_schema
from nbtrack.store.prepared import driver_errors
from nbtrack.store.reservation import SeqReservation


class Store:
    """One opened store (schema ensured): use :meth:`read` and :meth:`write` for transactions."""

    def __init__(self, url: str, artifacts: str = "", busy_timeout: float = 30.0) -> None:
        self.url = url
        self.display_url = display_url(url)
        self.engine: Engine = create_store_engine(url, busy_timeout)
        with self.translate("open"):
            ensure_schema(self.engine, self.display_url)
        self.artifacts_root = artifacts or default_artifact_root(url)
        self.experiment_ids: dict[str, int] = {}  # experiments are never deleted: ids can be kept
        self.reserved_seqs = SeqReservation()  # next run numbers, for runs created in the background
        self._artifacts: ArtifactStore | None = None

    @property
    def artifacts(self) -> ArtifactStore:
        """The artifact root (opened on first use, so fsspec loads only when needed)."""
        if self._artifacts is None:
            self._artifacts = ArtifactStore(self.artifacts_root)
        return self._artifacts

    @contextlib.contextmanager
    def translate(self, doing: str) -> Iterator[None]:
        """Turn database and OS errors into a StoreError naming this store."""
        try:
            yield
        except SchemaError:
            raise
        except sa.exc.SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            raise StoreError(f"cannot {doing} the nbtrack store at {self.display_url}: {cause}") from exc
        except OSError as exc:
            raise StoreError(f"cannot {doing} the nbtrack store at {self.display_url}: {exc}") from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A read transaction."""
        with self.translate("read"), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A write transaction (SQLite: BEGIN IMMEDIATE, so concurrent writers queue on the lock)."""
        with (
            self.translate("write to"),
            self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn,
            conn.begin(),
        ):
            yield conn

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def fetch_tuples(conn: sa.Connection, stmt: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """Run a Core SELECT on the raw DBAPI cursor and return plain tuples.

    For bulk reads (hundreds of thousands of rows) SQLAlchemy's Row objects cost as much as the
    database itself; the statement is still compiled by SQLAlchemy with bound parameters.
    """
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    # nbtrack's columns are numbers and strings, which need no bind/result processing on SQLite or
    # psycopg; a column type that did (e.g. DateTime) must not be read through here.
    params = compiled.construct_params()
    args: Any = tuple(params[k] for k in compiled.positiontup or ()) if compiled.positional else params
    sql = str(compiled)
    cursor = conn.connection.cursor()
    try:
        with driver_errors(conn, sql, args):
            cursor.execute(sql, args)
            return list(cursor.fetchall())
    finally:
        cursor.close()


def default_artifact_root(url: str) -> str:
    """``<store dir>/artifacts`` for a SQLite store, else ``./.nbtrack/artifacts``."""
    path = sqlite_path(url)
    folder = path.parent if path is not None else Path.cwd() / ".nbtrack"
    return str(folder / "artifacts")


class StoreRegistry:
    """Opened stores by URL, so each process opens (and migrates) a store once."""

    def __init__(self) -> None:
        self._stores: dict[tuple[str, str], Store] = {}
        self._lock = threading.Lock()

    def get(self, url: str, artifacts: str = "", busy_timeout: float = 30.0) -> Store:
        """The store for ``url``, opened on first request."""
        key = (url, artifacts)
        with self._lock:
            store = self._stores.get(key)
            if store is None:
                store = Store(url, artifacts, busy_timeout)
                self._stores[key] = store
            return store

    def close_all(self) -> None:
        """Dispose every opened store (tests, fork)."""
        with self._lock:
            for store in self._stores.values():
                store.dispose()
            self._stores.clear()
