"""``nbtrack rm`` deletes runs (all or nothing); ``nbtrack gc`` deletes only unreferenced artifact files."""

from __future__ import annotations

from pathlib import Path

import pytest

import nbtrack

from .support import CliRunner, blob_path, table_rows


@pytest.mark.usefixtures("three_runs")
def test_rm_removes_the_runs_and_says_which(cli_process: CliRunner) -> None:
    result = cli_process("rm", "1", "#3")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "removed run #1 'baseline' (mnist, FINISHED)",
        "removed run #3 'tiny' (cifar, FINISHED)",
    ]
    assert [row[0] for row in table_rows(cli_process("ls").out)[1:]] == ["#2"]


def test_rm_of_an_unknown_run_deletes_nothing(cli: CliRunner, three_runs: list[nbtrack.Run]) -> None:
    result = cli("rm", "1", "2", "99")
    assert result.code == 1
    assert result.err.startswith("nbtrack: error: no run #99")
    assert result.out == ""
    assert len(nbtrack.runs()) == 3


@pytest.mark.usefixtures("three_runs")
def test_rm_dry_run_only_says_what_it_would_remove(cli: CliRunner) -> None:
    result = cli("rm", "--dry-run", "2", "2")
    assert result.out == "would remove run #2 'wide' (mnist, FINISHED)\n"
    assert len(nbtrack.runs()) == 3


@pytest.mark.usefixtures("session")
def test_rm_refuses_a_running_run_unless_forced(cli: CliRunner) -> None:
    run = nbtrack.start_run(name="live")
    try:
        result = cli("rm", "1")
        assert result.code == 1
        assert "still RUNNING" in result.err
        assert "--force" in result.err
        assert len(nbtrack.runs()) == 1
    finally:
        run.end()
    assert cli("rm", "1").code == 0
    assert nbtrack.runs().empty


def test_gc_deletes_only_files_no_run_refers_to(cli_process: CliRunner, store_path: Path) -> None:
    with nbtrack.start_run(name="a") as a:
        a.log_artifact(b"only in a", name="own.bin")
        a.log_artifact(b"shared", name="shared.bin")
    with nbtrack.start_run(name="b") as b:
        b.log_artifact(b"shared", name="same-content.bin")
        b.log_artifact(b"only in b", name="own.bin")
    only_a, shared, only_b = (blob_path(store_path, data) for data in (b"only in a", b"shared", b"only in b"))
    assert all(path.exists() for path in (only_a, shared, only_b))

    removed = cli_process("rm", str(a.seq))
    assert "artifact files stay until `nbtrack gc`" in removed.err
    assert only_a.exists()  # rm leaves files to gc

    result = cli_process("gc")
    assert result.code == 0, result.err
    assert result.out == "removed 1 orphaned artifact file, freed 9 B\n"
    assert not only_a.exists()
    assert shared.exists()
    assert only_b.exists()
    assert nbtrack.get_run(b.seq).artifact_bytes("same-content.bin") == b"shared"
    assert cli_process("gc").out == "removed 0 orphaned artifact files, freed 0 B\n"


def test_gc_dry_run_lists_orphans_and_keeps_them(cli: CliRunner, store_path: Path) -> None:
    with nbtrack.start_run() as run:
        run.log_artifact(b"payload", name="p.bin")
    cli("rm", "1")
    orphan = blob_path(store_path, b"payload")
    result = cli("gc", "--dry-run")
    assert result.out.splitlines() == [
        f"would remove {orphan.parent.name}/{orphan.name}",
        "would remove 1 orphaned artifact file, freeing 7 B",
    ]
    assert orphan.exists()


def test_gc_refuses_while_a_run_is_running(cli: CliRunner, store_path: Path) -> None:
    with nbtrack.start_run() as done:
        done.log_artifact(b"old", name="old.bin")
    cli("rm", str(done.seq))
    live = nbtrack.start_run(name="live")
    try:
        result = cli("gc")
        assert result.code == 1
        assert f"runs are RUNNING (#{live.seq})" in result.err
        assert blob_path(store_path, b"old").exists()
        assert cli("gc", "--dry-run").code == 0
    finally:
        live.end()
    assert cli("gc").code == 0
    assert not blob_path(store_path, b"old").exists()


def test_rm_and_gc_on_a_missing_store_are_errors(cli: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    for args in (("rm", "1"), ("gc",), ("show", "1"), ("export",)):
        result = cli("--store", str(missing), *args)
        assert result.code == 1, args
        assert "there is no nbtrack store at" in result.err
    assert not missing.exists()
