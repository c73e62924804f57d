"""Where the store is found, how SQLite is set up, and how schema versions are handled."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from nbtrack.errors import SchemaError, StoreError
from nbtrack.store import migrate
from nbtrack.store.engine import as_store_url, discover_store_url, sqlite_url
from nbtrack.store.schema import metadata
from nbtrack.store.store import Store


def test_configured_store_wins_and_paths_become_sqlite_urls(tmp_path: Path) -> None:
    assert discover_store_url(str(tmp_path / "x.db"), tmp_path) == sqlite_url(tmp_path / "x.db")
    url = "postgresql+psycopg://u:pw@db.example/nb"
    assert discover_store_url(url, tmp_path) == url


def test_nearest_dot_nbtrack_folder_wins_over_git_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "proj" / ".nbtrack").mkdir(parents=True)
    deep = tmp_path / "proj" / "notebooks" / "sub"
    deep.mkdir(parents=True)
    expected = sqlite_url(tmp_path / "proj" / ".nbtrack" / "nbtrack.db")
    assert discover_store_url("", deep) == expected


def test_git_root_is_used_when_there_is_no_dot_nbtrack(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert discover_store_url("", deep) == sqlite_url(tmp_path / ".nbtrack" / "nbtrack.db")


def test_working_directory_is_the_last_resort(tmp_path: Path) -> None:
    assert discover_store_url("", tmp_path) == sqlite_url(tmp_path / ".nbtrack" / "nbtrack.db")


def test_invalid_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="not a valid store URL"):
        as_store_url("::not a url::/x://")
    with pytest.raises(StoreError, match="cannot use the store URL nosuchdriver"):
        Store("nosuchdriver+x://host/db")


def test_sqlite_store_uses_wal_busy_timeout_and_is_migrated(store_path: Path) -> None:
    store = Store(as_store_url(str(store_path)), busy_timeout=7)
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 7000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert migrate.current_revision(conn) == migrate.HEAD_REVISION
    store.dispose()


def test_head_revision_constant_matches_the_migration_scripts() -> None:
    assert migrate.script_head() == migrate.HEAD_REVISION


def test_migrated_schema_matches_the_table_definitions(store_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = Store(as_store_url(str(store_path)))
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    store.dispose()
    assert diff == []


def test_store_written_by_a_newer_nbtrack_is_refused_clearly(store_path: Path) -> None:
    url = as_store_url(str(store_path))
    Store(url).dispose()
    with sqlite3.connect(store_path) as db:
        db.execute("UPDATE alembic_version SET version_num = 'ffff9999'")
    with pytest.raises(SchemaError, match=r"newer nbtrack.*'ffff9999'.*pip install -U nbtrack"):
        Store(url)


def test_corrupt_store_file_is_a_store_error_naming_the_url(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=r"broken\.db.*not a database"):
        Store(as_store_url(str(path)))


def test_unreachable_server_is_a_store_error_naming_the_url_without_password() -> None:
    pytest.importorskip("psycopg")
    url = "postgresql+psycopg://someone:secret@127.0.0.1:1/nbtrack?connect_timeout=2"
    with pytest.raises(StoreError) as info:
        Store(url)
    assert "127.0.0.1:1" in str(info.value)
    assert "secret" not in str(info.value)


def test_unwritable_store_folder_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the store folder"):
        Store(as_store_url(str(blocker / "sub" / "nbtrack.db")))


def test_two_stores_opened_at_once_migrate_once(store_path: Path) -> None:
    import threading

    url = as_store_url(str(store_path))
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            Store(url).dispose()
        except StoreError as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1
    engine.dispose()


def test_a_store_at_an_older_revision_is_upgraded_on_first_use(store_path: Path) -> None:
    url = as_store_url(str(store_path))
    store_path.parent.mkdir(parents=True)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        migrate._upgrade(conn, "0001")
        conn.execute(sa.text("INSERT INTO experiments (name, created) VALUES ('e', 0)"))
        for seq in (1, 2, 7):
            conn.execute(
                sa.text(
                    "INSERT INTO runs (run_id, seq, experiment_id, status, start_time) "
                    "VALUES (:id, :seq, 1, 'FINISHED', 0)"
                ),
                {"id": f"run{seq}", "seq": seq},
            )
        conn.execute(
            sa.text(
                "INSERT INTO metric_summaries (run_id, key, last, last_step, min, max, count, last_time) "
                "VALUES ('run7', 'acc', 0.5, 0, 0.5, 0.5, 1, 0)"
            )
        )
    engine.dispose()
    store = Store(url)
    with store.read() as conn:
        assert migrate.current_revision(conn) == migrate.HEAD_REVISION
        # 0003 copies each summary's experiment onto it (the index behind the summary line's "best")
        assert conn.execute(sa.text("SELECT experiment_id FROM metric_summaries")).all() == [(1,)]
    from nbtrack.store.writes import create_run

    assert create_run(store, {"run_id": "new", "start_time": 1.0}, "e") == 8
    store.dispose()
