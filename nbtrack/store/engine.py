"""Store URL discovery and engine creation.

Where the store lives: ``NBTRACK_STORE`` (a SQLAlchemy URL, or a plain path to a SQLite file) wins;
otherwise the nearest folder above the working directory holding ``.nbtrack/``, else the git work-tree
root, else the working directory, with the database at ``<that>/.nbtrack/nbtrack.db``.

SQLite engines run in WAL mode with a busy timeout, and write transactions start with ``BEGIN IMMEDIATE``
so concurrent writers wait for the lock instead of failing on a stale snapshot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

from nbtrack.errors import StoreError
from nbtrack.store.prepared import driver_errors

STORE_DIR = ".nbtrack"
DB_NAME = "nbtrack.db"
WRITE_OPTION = "nbtrack_write"


def discover_store_url(configured: str = "", start: Path | None = None) -> str:
    """The store URL: the configured one if any, else the design's discovery from ``start`` (cwd)."""
    if configured:
        return as_store_url(configured)
    here = (start or Path.cwd()).resolve()
    candidates = [here, *here.parents]
    for folder in candidates:
        if (folder / STORE_DIR).is_dir():
            return sqlite_url(folder / STORE_DIR / DB_NAME)
    for folder in candidates:
        if (folder / ".git").exists():
            return sqlite_url(folder / STORE_DIR / DB_NAME)
    return sqlite_url(here / STORE_DIR / DB_NAME)


def as_store_url(value: str) -> str:
    """A SQLAlchemy URL from either a URL or a plain filesystem path to a SQLite file."""
    if "://" in value:
        try:
            make_url(value)
        except sa.exc.ArgumentError as exc:
            raise StoreError(f"not a valid store URL: {value!r} ({exc})") from exc
        return value
    return sqlite_url(Path(value).expanduser())


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file at ``path`` (made absolute)."""
    return URL.create("sqlite", database=str(path.absolute())).render_as_string()


def display_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def is_sqlite(url: str) -> bool:
    """True when the URL names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for in-memory / non-SQLite stores."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def create_store_engine(url: str, busy_timeout: float = 30.0) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and IMMEDIATE write transactions."""
    try:
        u = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"not a valid store URL: {url!r} ({exc})") from exc
    if u.get_backend_name() != "sqlite":
        try:
            return sa.create_engine(u, pool_pre_ping=True)
        except (sa.exc.ArgumentError, ImportError) as exc:
            hint = " (for PostgreSQL: pip install 'nbtrack[postgres]')" if "postgres" in url else ""
            raise StoreError(f"cannot use the store URL {display_url(url)}: {exc}{hint}") from exc
    path = sqlite_path(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store folder for {display_url(url)}: {exc}") from exc
    engine = sa.create_engine(u, connect_args={"timeout": busy_timeout, "check_same_thread": False})
    _install_sqlite_hooks(engine, busy_timeout)
    return engine


def _use_wal(cursor: Any, busy_timeout: float) -> None:
    """Switch the database to WAL mode (persistent, so usually a no-op read).

    Switching needs the database to itself; SQLite answers "locked" at once, without waiting, when
    another connection is opening the same new store at that moment — so retry for the busy timeout.
    """
    import sqlite3
    import time

    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _install_sqlite_hooks(engine: Engine, busy_timeout: float) -> None:
    timeout_ms = int(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We emit BEGIN ourselves (below); pysqlite's implicit transactions would defeat that.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms:d}")
            _use_wal(cursor, busy_timeout)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA case_sensitive_like = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        sql = "BEGIN IMMEDIATE" if write else "BEGIN"
        cursor = conn.connection.cursor()  # raw: exec_driver_sql costs ~10x the BEGIN itself
        try:
            with driver_errors(conn, sql):
                cursor.execute(sql)
        finally:
            cursor.close()
