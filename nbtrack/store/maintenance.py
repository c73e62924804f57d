"""Store upkeep: garbage collection of orphaned artifact files, and health checks for ``nbtrack doctor``.

Artifact files are content-addressed and shared between runs, so deleting a run leaves its files in place;
:func:`collect_garbage` removes the files that no ``artifacts`` row references any more. It works under
the store's write lock and only while no run is RUNNING, because a running run may have stored a file
(or found its content already stored) before its ``artifacts`` row reaches the database.

:func:`explain_store_location` says which store nbtrack uses and why (mirroring
:func:`nbtrack.store.engine.discover_store_url`), and :func:`check_store` inspects a store without
opening it the usual way — no schema upgrade, no pragmas changed — and lists each problem found with
what to do about it.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from nbtrack.errors import RunStateError, StoreError
from nbtrack.model import Status
from nbtrack.store import schema as t
from nbtrack.store.artifacts import ArtifactStore
from nbtrack.store.engine import (
    DB_NAME,
    STORE_DIR,
    as_store_url,
    create_store_engine,
    display_url,
    sqlite_path,
    sqlite_url,
)
from nbtrack.store.liveness import pid_alive
from nbtrack.store.migrate import HEAD_REVISION, current_revision, known_revisions
from nbtrack.store.store import Store

# -- garbage collection ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GcReport:
    """What :func:`collect_garbage` removed (or, in a dry run, would remove)."""

    removed: list[str]
    bytes_freed: int
    dry_run: bool
    running: list[int] = field(default_factory=list)


def orphaned_artifacts(store: Store) -> list[str]:
    """Hashes of the files under the artifact root that no ``artifacts`` row references, sorted."""
    with _artifact_errors(store):
        stored = set(store.artifacts.stored_hashes())
    with store.read() as conn:
        referenced = _referenced_hashes(conn)
    return sorted(stored - referenced)


def collect_garbage(store: Store, dry_run: bool = False) -> GcReport:
    """Delete the orphaned artifact files (nothing with ``dry_run``); refuse while runs are RUNNING."""
    # List the files before reading the references: a file stored after the listing is not deleted,
    # and one stored before it belongs to a run that is RUNNING when the references are read.
    with _artifact_errors(store):
        stored = set(store.artifacts.stored_hashes())
    with store.write() as conn:
        # Holding the write lock keeps new runs from starting (and logging) while files go.
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE"))
        running = _running_seqs(conn)
        if running and not dry_run:
            listing = ", ".join(f"#{seq}" for seq in running)
            raise RunStateError(
                f"not collecting garbage while runs are RUNNING ({listing}): files they logged may "
                "not be recorded yet; run `nbtrack gc` again when they have ended"
            )
        orphans = sorted(stored - _referenced_hashes(conn))
        freed = 0
        removed = []
        with _artifact_errors(store):
            for sha in orphans:
                try:
                    size = store.artifacts.size_of(sha)
                    if not dry_run:
                        store.artifacts.delete(sha)
                except FileNotFoundError:
                    continue  # removed meanwhile (another gc)
                freed += size
                removed.append(sha)
    return GcReport(removed, freed, dry_run, running)


def _referenced_hashes(conn: sa.Connection) -> set[str]:
    return set(conn.execute(sa.select(t.artifacts.c.sha256).distinct()).scalars())


def _running_seqs(conn: sa.Connection) -> list[int]:
    stmt = sa.select(t.runs.c.seq).where(t.runs.c.status == Status.RUNNING.value).order_by(t.runs.c.seq)
    return [int(seq) for seq in conn.execute(stmt).scalars()]


@contextlib.contextmanager
def _artifact_errors(store: Store) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise StoreError(f"cannot use the artifact root {store.artifacts_root}: {exc}") from exc


# -- where the store is ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreLocation:
    """The store URL nbtrack uses and, in words, how it was found."""

    url: str
    how: str


def explain_store_location(
    configured: str = "", start: Path | None = None, configured_by: str = "NBTRACK_STORE"
) -> StoreLocation:
    """The store URL :func:`discover_store_url` picks, with the reason (``configured_by`` names a setting)."""
    if configured:
        return StoreLocation(as_store_url(configured), f"set by {configured_by}")
    here = (start or Path.cwd()).resolve()
    candidates = [here, *here.parents]
    for folder in candidates:
        if (folder / STORE_DIR).is_dir():
            return StoreLocation(
                sqlite_url(folder / STORE_DIR / DB_NAME),
                f"the nearest {STORE_DIR}/ folder, in {folder}",
            )
    for folder in candidates:
        if (folder / ".git").exists():
            return StoreLocation(
                sqlite_url(folder / STORE_DIR / DB_NAME),
                f"no {STORE_DIR}/ folder found; the git work-tree root {folder}",
            )
    return StoreLocation(
        sqlite_url(here / STORE_DIR / DB_NAME),
        f"no {STORE_DIR}/ folder or git work tree found; the working directory {here}",
    )


# -- health checks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Something wrong with the store, and what to do about it."""

    what: str
    fix: str


@dataclass(frozen=True)
class RunningRun:
    """A run whose status is RUNNING, and whether its process still looks alive."""

    seq: int
    host: str | None
    pid: int | None
    heartbeat_age: float
    alive: bool


@dataclass
class HealthReport:
    """Facts about a store gathered by :func:`check_store`; ``None`` means "could not be checked"."""

    url: str
    artifact_root: str
    exists: bool = True
    revision: str | None = None
    head_revision: str = HEAD_REVISION
    journal_mode: str | None = None
    integrity: list[str] | None = None
    status_counts: dict[str, int] | None = None
    running: list[RunningRun] = field(default_factory=list)
    stored_artifacts: int | None = None
    missing_artifacts: dict[str, list[int]] = field(default_factory=dict)
    orphaned_artifacts: list[str] = field(default_factory=list)
    orphaned_bytes: int = 0
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def check_store(
    url: str, artifact_root: str, crash_timeout: float = 120.0, busy_timeout: float = 30.0
) -> HealthReport:
    """Inspect the store at ``url`` (read-only: no schema upgrade) and its artifact root."""
    report = HealthReport(url=url, artifact_root=artifact_root)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        report.exists = False
        report.notes.append(
            f"there is no store at {path} yet: the first tracked run creates it"
            " (use --store or NBTRACK_STORE to check another store)"
        )
        return report
    if path is not None:
        # A plain connection, without nbtrack's pragmas: observe the file, do not change it.
        engine = sa.create_engine(
            sa.make_url(url), connect_args={"timeout": busy_timeout}, poolclass=sa.pool.NullPool
        )
    else:
        engine = create_store_engine(url, busy_timeout)
    try:
        with engine.connect() as conn:
            references = _check_database(conn, report, path, crash_timeout)
    except sa.exc.SQLAlchemyError as exc:
        report.problems.append(_unreadable(exc, url, path))
        return report
    finally:
        engine.dispose()
    if references is not None:
        _check_artifacts(report, references)
    return report


def _check_database(
    conn: sa.Connection, report: HealthReport, path: Path | None, crash_timeout: float
) -> dict[str, list[int]] | None:
    """Fill in the database facts; return the referenced artifact hashes (with run seqs) if known."""
    if path is not None:
        report.journal_mode = str(conn.exec_driver_sql("PRAGMA journal_mode").scalar()).lower()
        report.integrity = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA integrity_check")]
        if report.integrity != ["ok"]:
            report.problems.append(
                Problem(
                    f"the database file is damaged (integrity check: {'; '.join(report.integrity[:3])})",
                    _corrupt_fix(path),
                )
            )
            return None
    report.revision = current_revision(conn)
    if report.revision is None:
        if sa.inspect(conn).get_table_names():
            report.problems.append(
                Problem(
                    f"{display_url(report.url)} holds tables but no nbtrack schema",
                    "it is probably another application's database: point NBTRACK_STORE (or "
                    "--store) at an nbtrack store, or at a new file",
                )
            )
        else:
            report.notes.append("the database is empty: nbtrack creates its tables on first use")
        return None
    if report.revision != HEAD_REVISION:
        if report.revision in known_revisions():
            report.notes.append(
                f"schema revision {report.revision!r} is older than this nbtrack's "
                f"{HEAD_REVISION!r}: it is upgraded the next time nbtrack opens the store"
            )
        else:
            report.problems.append(
                Problem(
                    f"the store was written by a newer nbtrack (schema revision "
                    f"{report.revision!r}; this nbtrack knows up to {HEAD_REVISION!r})",
                    "upgrade nbtrack with `pip install -U nbtrack`",
                )
            )
        return None
    if path is not None and report.journal_mode != "wal":
        report.problems.append(
            Problem(
                f"the SQLite journal mode is {report.journal_mode!r}, not 'wal': kernels logging at "
                "the same time will block each other",
                "nbtrack switches the store to WAL whenever it opens it; if it stays "
                f"{report.journal_mode!r} the file system (a network share?) cannot do WAL — move "
                "the store to a local disk, or use PostgreSQL for a shared store",
            )
        )
    counts = conn.execute(sa.select(t.runs.c.status, sa.func.count()).group_by(t.runs.c.status)).all()
    report.status_counts = {str(status): int(n) for status, n in counts}
    report.running = _running_runs(conn, crash_timeout)
    stale = [r for r in report.running if not r.alive]
    if stale:
        listing = ", ".join(f"#{r.seq}" for r in stale)
        report.notes.append(
            f"runs {listing} are RUNNING but their process is gone: any read (e.g. `nbtrack ls`) "
            "marks them CRASHED"
        )
    rows = conn.execute(
        sa.select(t.artifacts.c.sha256, t.runs.c.seq).select_from(t.artifacts.join(t.runs)).distinct()
    ).all()
    references: dict[str, list[int]] = {}
    for sha, seq in rows:
        references.setdefault(str(sha), []).append(int(seq))
    return references


def _running_runs(conn: sa.Connection, crash_timeout: float) -> list[RunningRun]:
    # Same rule as nbtrack.store.liveness.reconcile_crashed, evaluated without writing.
    r = t.runs.c
    rows = conn.execute(
        sa.select(r.seq, r.host, r.pid, r.heartbeat, r.start_time)
        .where(r.status == Status.RUNNING.value)
        .order_by(r.seq)
    ).all()
    now = time.time()
    host = socket.gethostname()
    found = []
    for row in rows:
        age = now - (row.heartbeat or row.start_time)
        dead = (row.host == host and row.pid is not None and not pid_alive(row.pid)) or (age > crash_timeout)
        found.append(RunningRun(int(row.seq), row.host, row.pid, age, not dead))
    return found


def _check_artifacts(report: HealthReport, references: dict[str, list[int]]) -> None:
    try:
        artifacts = ArtifactStore(report.artifact_root)
        stored = set(artifacts.stored_hashes())
        report.stored_artifacts = len(stored)
        report.missing_artifacts = {
            sha: sorted(seqs) for sha, seqs in references.items() if sha not in stored
        }
        report.orphaned_artifacts = sorted(stored - set(references))
        report.orphaned_bytes = sum(artifacts.size_of(sha) for sha in report.orphaned_artifacts)
    except OSError as exc:
        report.problems.append(
            Problem(
                f"cannot list the artifact root {report.artifact_root}: {exc}",
                "check that it exists and is readable, or set NBTRACK_ARTIFACTS to where the artifacts are",
            )
        )
        return
    if report.missing_artifacts:
        seqs = sorted({seq for run_seqs in report.missing_artifacts.values() for seq in run_seqs})
        runs = ", ".join(f"#{seq}" for seq in seqs[:10]) + (", ..." if len(seqs) > 10 else "")
        report.problems.append(
            Problem(
                f"{_count(len(report.missing_artifacts), 'artifact file')} of runs {runs} "
                f"cannot be found under {report.artifact_root}",
                "if the artifacts were moved, set NBTRACK_ARTIFACTS to their new location; "
                "otherwise their content is lost (`nbtrack rm` the runs if you no longer need them)",
            )
        )
    if report.orphaned_artifacts:
        report.notes.append(
            f"{_count(len(report.orphaned_artifacts), 'artifact file')} under the root belong to no "
            "run (left by deleted runs): `nbtrack gc` removes them"
        )


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _unreadable(exc: sa.exc.SQLAlchemyError, url: str, path: Path | None) -> Problem:
    cause = str(getattr(exc, "orig", None) or exc)
    damaged = isinstance(exc, sa.exc.DatabaseError) and any(
        phrase in cause for phrase in ("not a database", "malformed", "corrupt")
    )
    if damaged and path is not None:
        return Problem(
            f"cannot read the store at {display_url(url)}: {cause} (the file is damaged or is not "
            "an nbtrack store)",
            _corrupt_fix(path),
        )
    return Problem(
        f"cannot read the store at {display_url(url)}: {cause}",
        "check that the store URL is right and the database is reachable (and, for a file, readable by you)",
    )


def _corrupt_fix(path: Path) -> str:
    return (
        f"stop the kernels using it, move it aside (`mv {path} {path}.broken`), then restore a "
        f"backup there or recover what is readable with `sqlite3 {path}.broken .recover | sqlite3 "
        f"{path}`; with the file moved away, the next run starts a new empty store"
    )
