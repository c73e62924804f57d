"""Bring a store's schema to this nbtrack's revision (Alembic), automatically on first use.

The fast path reads ``alembic_version`` directly and imports Alembic only when an upgrade is needed.
A store written by a newer nbtrack (an unknown revision) is refused with a :class:`SchemaError`.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nbtrack.errors import SchemaError
from nbtrack.store.engine import WRITE_OPTION

#: The newest revision this nbtrack knows; a test checks it matches the migration scripts.
HEAD_REVISION = "0004"
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def current_revision(conn: sa.Connection) -> str | None:
    """The store's schema revision, or None for a store with no nbtrack tables yet."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return None if row is None else str(row[0])


def ensure_schema(engine: Engine, url_for_messages: str) -> None:
    """Create or upgrade the schema to HEAD_REVISION; refuse stores written by a newer nbtrack."""
    with engine.connect() as conn:
        revision = current_revision(conn)
    if revision == HEAD_REVISION:
        return
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            # Serialise concurrent first uses of one PostgreSQL store (the key is arbitrary).
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7305961288)")
        revision = current_revision(conn)  # another process may have migrated meanwhile
        if revision == HEAD_REVISION:
            return
        _check_known(revision, url_for_messages)
        _upgrade(conn)


def known_revisions() -> set[str]:
    """Every revision id shipped with this nbtrack."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    return {s.revision for s in scripts.walk_revisions()}


def script_head() -> str:
    """The head revision according to the migration scripts themselves."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise SchemaError("nbtrack's migration scripts are missing: reinstall nbtrack")
    return head


def _check_known(revision: str | None, url: str) -> None:
    if revision is None or revision in known_revisions():
        return
    raise SchemaError(
        f"the store at {url} was written by a newer nbtrack (schema revision {revision!r}; "
        f"this nbtrack knows up to {HEAD_REVISION!r}): upgrade nbtrack with "
        "`pip install -U nbtrack`, or point NBTRACK_STORE at another store"
    )


def _upgrade(conn: sa.Connection, target: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, target)
