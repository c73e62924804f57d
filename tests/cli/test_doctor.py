"""``nbtrack doctor``: where the store is and why, its health, and what to do about each problem."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import nbtrack
from nbtrack.api import Session
from nbtrack.store.migrate import HEAD_REVISION

from .support import CliRunner, blob_path


def close_store(session: Session, store_path: Path) -> None:
    """Release the session's connections so the test can change the file underneath."""
    session.registry.close_all()
    for suffix in ("-wal", "-shm"):
        store_path.with_name(store_path.name + suffix).unlink(missing_ok=True)


def test_doctor_on_a_healthy_store_reports_it_and_exits_0(
    cli: CliRunner, three_runs: list[nbtrack.Run], store_path: Path
) -> None:
    with nbtrack.start_run() as run:
        run.log_artifact(b"data", name="d.bin")
        run.end("FAILED", error="RuntimeError: boom")
    result = cli("doctor")
    assert result.code == 0, result.out
    lines = result.out.splitlines()
    assert lines[0] == f"store         sqlite:///{store_path}"
    assert lines[1].strip() == "(set by the NBTRACK_STORE environment variable)"
    assert f"schema        revision {HEAD_REVISION!r} (this nbtrack: {HEAD_REVISION!r})" in lines
    assert "journal mode  wal" in lines
    assert "integrity     ok" in lines
    assert "runs          4: 3 FINISHED, 1 FAILED" in lines
    assert "running       none" in lines
    assert f"artifacts     {store_path.parent / 'artifacts'}" in lines
    assert "files         1 stored, 0 missing, 0 orphaned (0 B)" in lines
    assert lines[-1] == "healthy: no problems found"


def test_doctor_says_the_store_option_chose_the_store(cli: CliRunner, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    result = cli("doctor", "--store", str(other))
    assert result.code == 0
    assert "(set by the --store option)" in result.out
    assert "there is no store at" in result.out
    assert not other.exists()


@pytest.mark.usefixtures("session")
def test_doctor_shows_running_runs_and_orphans_without_calling_them_problems(
    cli: CliRunner, store_path: Path
) -> None:
    with nbtrack.start_run() as gone:
        gone.log_artifact(b"left behind", name="x.bin")
    cli("rm", str(gone.seq))
    live = nbtrack.start_run()
    try:
        result = cli("doctor")
    finally:
        live.end()
    assert result.code == 0
    assert f"running       #{live.seq} on " in result.out
    assert "1 orphaned (11 B)" in result.out
    assert "note: 1 artifact file under the root belong" in result.out
    assert "`nbtrack gc` removes them" in result.out


@pytest.mark.usefixtures("session")
def test_doctor_reports_missing_artifact_files_as_a_problem(cli: CliRunner, store_path: Path) -> None:
    with nbtrack.start_run() as run:
        run.log_artifact(b"precious", name="model.pkl")
    blob_path(store_path, b"precious").unlink()
    result = cli("doctor")
    assert result.code == 1
    assert f"problem: 1 artifact file of runs #{run.seq} cannot be found under" in result.out
    assert "NBTRACK_ARTIFACTS" in result.out
    assert result.out.endswith("1 problem found\n")


def test_doctor_on_a_store_full_of_garbage_exits_1_saying_what_to_do(
    cli_process: CliRunner, three_runs: list[nbtrack.Run], session: Session, store_path: Path
) -> None:
    close_store(session, store_path)
    store_path.write_bytes(b"this is not a database, just garbage\x00\xff" * 200)
    result = cli_process("doctor")
    assert result.code == 1, result.out
    assert "problem: cannot read the store at" in result.out
    assert "file is not a database" in result.out
    assert f"what to do: stop the kernels using it, move it aside (`mv {store_path} " in result.out
    assert "Traceback" not in result.out + result.err
    broken = cli_process("ls")
    assert broken.code == 1
    assert broken.err.startswith("nbtrack: error: cannot open the nbtrack store at")
    assert "file is not a database" in broken.err


def test_doctor_on_a_store_with_damaged_pages_exits_1(
    cli_process: CliRunner, session: Session, store_path: Path
) -> None:
    for i in range(20):
        with nbtrack.start_run(name=f"run {i} " * 30, params={f"p{j}": "x" * 200 for j in range(20)}):
            pass
    close_store(session, store_path)
    data = bytearray(store_path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[-3 * page :] = b"\xff" * (3 * page)
    store_path.write_bytes(bytes(data))
    result = cli_process("doctor")
    assert result.code == 1
    assert "malformed" in result.out or "integrity check:" in result.out
    assert "what to do: stop the kernels using it" in result.out


def test_a_store_from_a_newer_nbtrack_is_refused_with_upgrade_advice(
    cli_process: CliRunner, three_runs: list[nbtrack.Run], session: Session, store_path: Path
) -> None:
    close_store(session, store_path)
    with sqlite3.connect(store_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff'")
    conn.close()
    result = cli_process("doctor")
    assert result.code == 1
    assert f"schema        revision 'ffff' (this nbtrack: {HEAD_REVISION!r})" in result.out
    assert "problem: the store was written by a newer nbtrack" in result.out
    assert "pip install -U nbtrack" in result.out
    listing = cli_process("ls")
    assert listing.code == 1
    assert "was written by a newer nbtrack" in listing.err
    assert "pip install -U nbtrack" in listing.err


def test_doctor_flags_a_store_not_in_wal_mode(
    cli_process: CliRunner, three_runs: list[nbtrack.Run], session: Session, store_path: Path
) -> None:
    close_store(session, store_path)
    conn = sqlite3.connect(store_path)
    assert conn.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
    conn.close()
    result = cli_process("doctor")
    assert result.code == 1
    assert "problem: the SQLite journal mode is 'delete', not 'wal'" in result.out


def test_doctor_calls_a_foreign_database_a_problem(cli: CliRunner, tmp_path: Path) -> None:
    foreign = tmp_path / "app.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE users (id INTEGER)")
    conn.close()
    result = cli("--store", str(foreign), "doctor")
    assert result.code == 1
    assert "holds tables but no nbtrack schema" in result.out
