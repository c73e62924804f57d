"""The public functions behind ``import nbtrack`` — thin wiring of tracking and query.

One :class:`Session` per process holds the configuration, the opened stores and the tracker; the
functions below use the default session. Tests and embedding applications can make their own.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbtrack.config import NbtrackConfig
from nbtrack.errors import StoreError
from nbtrack.store.engine import as_store_url, discover_store_url
from nbtrack.store.liveness import reconcile_crashed
from nbtrack.store.store import Store, StoreRegistry
from nbtrack.tracking.run import Run
from nbtrack.tracking.tracker import Tracker

if TYPE_CHECKING:
    import pandas as pd

    from nbtrack.model import RunPlace, UnsavedMetric
    from nbtrack.query.records import RunRecord
    from nbtrack.query.standing import Standing
    from nbtrack.ui.compare import ComparePanel
    from nbtrack.ui.table import RunTable


class Session:
    """Configuration + stores + tracker of one process (or one test)."""

    def __init__(self, config: NbtrackConfig | None = None) -> None:
        self.config = config or NbtrackConfig.from_environment()
        self.registry = StoreRegistry()
        self.tracker = Tracker(self.config, self.registry)

    def store(self, store: str | None = None) -> Store:
        """The opened store: ``store`` (URL or path) if given, else the configured/discovered one."""
        url = as_store_url(store) if store else discover_store_url(self.config.store)
        return self.registry.get(url, self.config.artifacts, self.config.busy_timeout)

    def reconciled(self, store: str | None = None) -> Store:
        """The store, after marking runs of dead processes CRASHED (so reads are honest)."""
        writer = self.tracker.writer_if_started
        if writer is not None:
            # read your own writes (waits for a flush in progress; cheap when idle); if the store
            # refuses writes just now, the read still goes ahead and the writer retries later
            with contextlib.suppress(StoreError):
                writer.flush()
        opened = self.store(store)
        reconcile_crashed(opened, self.config.crash_timeout)
        return opened


class _Default:
    """Holder of the process's default session, created on first use."""

    def __init__(self) -> None:
        self._session: Session | None = None
        self._lock = threading.Lock()

    def get(self) -> Session:
        with self._lock:
            if self._session is None:
                self._session = Session()
            return self._session

    def swap(self, session: Session | None) -> Session | None:
        """Install ``session`` as the default; return the previous one (used by nbtrack.testing)."""
        with self._lock:
            previous, self._session = self._session, session
            return previous


_default = _Default()


def session_for_folder(folder: Path) -> Session:
    """A session on the store configured (NBTRACK_STORE), else the one discovered from ``folder``."""
    config = NbtrackConfig.from_environment()
    if not config.store:
        config.store = discover_store_url("", folder)
    return Session(config)


def session() -> Session:
    """The process's default session."""
    return _default.get()


def configure(**settings: Any) -> NbtrackConfig:
    """Change settings (``store=``, ``artifacts=``, ``flush_interval=``...) for later runs and reads."""
    config = session().config
    for name, value in settings.items():
        if not config.has_trait(name):
            known = ", ".join(sorted(config.trait_names(config=True)))
            raise TypeError(f"unknown nbtrack setting {name!r} (known: {known})")
        setattr(config, name, value)
    return config


def start_run(
    name: str | None = None,
    experiment: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    **attributes: Any,
) -> Run:
    """Start a run (use it with ``with``); it becomes the active run for :func:`log`."""
    return session().tracker.start_run(name, experiment, params, tags, **attributes)


def active_run() -> Run | None:
    """The run that :func:`log` would log to, if any."""
    return session().tracker.active_run


def log(metrics: Mapping[str, Any] | None = None, /, *, step: int | None = None, **kw: Any) -> None:
    """Log metric points into the active run (see :meth:`Run.log`)."""
    session().tracker.require_active().log(metrics, step=step, **kw)


def log_params(params: Mapping[str, Any] | None = None, /, **kw: Any) -> None:
    """Record params on the active run."""
    session().tracker.require_active().log_params(params, **kw)


def set_tags(tags: Mapping[str, Any] | None = None, /, **kw: Any) -> None:
    """Set tags on the active run."""
    session().tracker.require_active().set_tags(tags, **kw)


def end_run(status: str = "FINISHED") -> None:
    """End the active run."""
    session().tracker.require_active().end(status)


def runs(
    filter: str | None = None,
    experiment: str | Sequence[str] | None = None,
    order_by: str | Sequence[str] | None = None,
    limit: int | None = None,
    store: str | None = None,
) -> pd.DataFrame:
    """Runs matching ``filter`` (MLflow search syntax, plus OR/NOT/parentheses) as a DataFrame."""
    from nbtrack.query.frames import runs_frame, select_runs

    stmt = select_runs(filter, experiment, order_by, limit)
    return runs_frame(session().reconciled(store), stmt)


def tag_run(ref: Any, tags: Mapping[str, Any], store: str | None = None) -> RunRecord:
    """Set tags on a stored run (ended or not); returns the updated run."""
    from nbtrack.query.resolve import resolve_run_id
    from nbtrack.store import schema
    from nbtrack.store.writes import upsert

    opened = session().reconciled(store)  # pending writes of this process first
    run_id = resolve_run_id(opened, ref)
    rows = [{"run_id": run_id, "key": str(k), "value": str(v)} for k, v in tags.items()]
    with opened.write() as conn:
        upsert(conn, schema.tags, rows)
    return get_run(run_id, store)


def note_run(ref: Any, text: str, store: str | None = None) -> RunRecord:
    """Attach a note to a stored run; returns the updated run."""
    import time

    from nbtrack.query.resolve import resolve_run_id
    from nbtrack.store import schema

    if not isinstance(text, str) or not text.strip():
        raise ValueError("a note must be a non-empty string")
    opened = session().reconciled(store)  # pending writes of this process first
    run_id = resolve_run_id(opened, ref)
    with opened.write() as conn:
        conn.execute(schema.notes.insert().values(run_id=run_id, created=time.time(), text=text))
    return get_run(run_id, store)


def delete_runs(refs: Sequence[Any], store: str | None = None) -> list[int]:
    """Delete runs (every ref is resolved first, so a bad one deletes nothing); returns their seqs."""
    from nbtrack.query.resolve import resolve_run_id
    from nbtrack.store.writes import delete_runs as delete

    opened = session().reconciled(store)  # pending writes of this process first
    ids = [resolve_run_id(opened, ref) for ref in refs]
    seqs = [get_run(run_id, store).seq for run_id in ids]
    delete(opened, ids)
    return seqs


def metric_standing(
    place: RunPlace,
    key: str,
    value: float,
    store: str | None = None,
    unsaved: Sequence[UnsavedMetric] = (),
) -> Standing:
    """How a run's ``value`` of metric ``key`` compares with the other runs (best so far, vs previous).

    ``unsaved``: other runs' values still in this process's memory, not in the store yet.
    """
    from nbtrack.query.standing import metric_standing as standing

    return standing(session().store(store), place, key, value, unsaved)


def get_run(ref: Any, store: str | None = None) -> RunRecord:
    """One run by seq number (``12`` or ``"#12"``), run id, or unique run id prefix."""
    from nbtrack.query.records import load_run
    from nbtrack.query.resolve import resolve_run_id

    opened = session().reconciled(store)
    return load_run(opened, resolve_run_id(opened, ref))


def _source(store: str | None) -> Any:
    """A StoreSource for views: the store, read-your-writes and reconciled, at each read."""
    return lambda: session().reconciled(store)


def table(
    filter: str | None = None,
    experiment: str | Sequence[str] | None = None,
    order_by: str | None = None,
    store: str | None = None,
) -> RunTable:
    """The run table widget: sort, filter, choose columns, select runs, compare, tag, note, delete."""
    from nbtrack.ui.table import RunTable

    return RunTable(
        _source(store), filter=filter, experiment=experiment, order_by=order_by, editor=Editor(store)
    )


def compare(
    runs: Sequence[Any],
    store: str | None = None,
    directions: Mapping[str, str] | None = None,
) -> ComparePanel:
    """Runs side by side: params, metrics (best marked), curves, parallel coordinates, code, images, env.

    ``directions`` overrides the inferred direction of a metric: ``{"score": "max", "cost": "min"}``.
    """
    from nbtrack.ui.compare import ComparePanel

    return ComparePanel(_source(store), runs, directions=directions)


class Editor:
    """The changes a run table may make, through the public functions above."""

    def __init__(self, store: str | None) -> None:
        self.store = store

    def tag(self, refs: Sequence[Any], tags: Mapping[str, Any]) -> None:
        for ref in refs:
            tag_run(ref, tags, self.store)

    def note(self, refs: Sequence[Any], text: str) -> None:
        for ref in refs:
            note_run(ref, text, self.store)

    def delete(self, refs: Sequence[Any]) -> list[int]:
        return delete_runs(refs, self.store)
