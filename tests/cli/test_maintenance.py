"""nbtrack.store.maintenance: store location explained, orphaned artifacts, health checks.

(These test a store module; they live here because the CLI is their one user so far.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

import nbtrack
from nbtrack.api import Session
from nbtrack.store.engine import discover_store_url
from nbtrack.store.maintenance import (
    check_store,
    collect_garbage,
    explain_store_location,
    orphaned_artifacts,
)
from nbtrack.store.writes import delete_runs


@pytest.mark.parametrize(
    ("layout", "how"),
    [
        ("nbtrack-dir", "the nearest .nbtrack/ folder"),
        ("git", "the git work-tree root"),
        ("nothing", "the working directory"),
    ],
)
def test_explain_store_location_agrees_with_discovery(tmp_path: Path, layout: str, how: str) -> None:
    project = tmp_path / "project"
    start = project / "notebooks" / "deep"
    start.mkdir(parents=True)
    if layout == "nbtrack-dir":
        (project / ".nbtrack").mkdir()
        (project / ".git").mkdir()
        (start / ".git").mkdir()  # .nbtrack/ higher up still wins over a nearer git root
    elif layout == "git":
        (project / ".git").mkdir()
    location = explain_store_location(start=start)
    assert location.url == discover_store_url(start=start)
    assert how in location.how
    if layout != "nothing":
        assert location.url == f"sqlite:///{project / '.nbtrack' / 'nbtrack.db'}"


def test_explain_store_location_names_the_setting_that_chose_it(tmp_path: Path) -> None:
    location = explain_store_location(str(tmp_path / "x.db"), configured_by="the --store option")
    assert location == explain_store_location(str(tmp_path / "x.db"), configured_by="the --store option")
    assert location.url == discover_store_url(str(tmp_path / "x.db"))
    assert location.how == "set by the --store option"


def test_orphaned_artifacts_are_those_no_row_references(session: Session) -> None:
    with nbtrack.start_run() as a:
        a.log_artifact(b"a", name="a")
        a.log_artifact(b"both", name="both")
    with nbtrack.start_run() as b:
        b.log_artifact(b"both", name="both")
    store = session.store()
    assert orphaned_artifacts(store) == []
    delete_runs(store, [a.id])
    [orphan] = orphaned_artifacts(store)
    assert store.artifacts.read_bytes(orphan) == b"a"
    report = collect_garbage(store, dry_run=True)
    assert (report.removed, report.bytes_freed, report.dry_run) == ([orphan], 1, True)
    assert orphaned_artifacts(store) == [orphan]
    assert collect_garbage(store).removed == [orphan]
    assert orphaned_artifacts(store) == []


def test_check_store_does_not_create_a_missing_store(tmp_path: Path) -> None:
    url = discover_store_url(str(tmp_path / "none.db"))
    report = check_store(url, str(tmp_path / "artifacts"))
    assert report.healthy
    assert not report.exists
    assert not (tmp_path / "none.db").exists()
