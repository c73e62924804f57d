"""One run, read back: its attributes, params, metrics (last values), tags, notes and artifacts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nbtrack.model import ArtifactInfo, MetricSummary, RunInfo, Status
from nbtrack.query.history import history_frame, load_points
from nbtrack.store import schema as t
from nbtrack.store.chunks import Points
from nbtrack.store.store import Store
from nbtrack.store.values import decode_param

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class RunRecord:
    """A stored run as plain data, plus :meth:`history` to read a metric's points."""

    info: RunInfo
    params: dict[str, Any]
    metrics: dict[str, float]
    summaries: dict[str, MetricSummary]
    tags: dict[str, str]
    notes: list[str]
    artifacts: list[ArtifactInfo]
    param_origins: dict[str, str] = field(default_factory=dict)
    _store: Store | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        """The run id."""
        return self.info.run_id

    run_id = id

    @property
    def seq(self) -> int:
        """The human run number ("run #12")."""
        return self.info.seq

    @property
    def name(self) -> str | None:
        """The run's name, if it was given one."""
        return self.info.name

    @property
    def experiment(self) -> str:
        """The experiment the run belongs to."""
        return self.info.experiment

    @property
    def status(self) -> Status:
        """RUNNING, FINISHED, FAILED, INTERRUPTED or CRASHED."""
        return self.info.status

    def points(self, key: str) -> Points:
        """Every point of metric ``key`` as numpy arrays."""
        if self._store is None:
            raise RuntimeError("this record is detached from its store")
        return load_points(self._store, self.info.run_id, key)

    def history(self, key: str) -> pd.DataFrame:
        """Every point of metric ``key`` as a DataFrame (step, value, timestamp)."""
        return history_frame(self.points(key))

    def artifact_bytes(self, name: str) -> bytes:
        """The content of the artifact called ``name``."""
        for art in self.artifacts:
            if art.name == name and self._store is not None:
                return self._store.artifacts.read_bytes(art.sha256)
        names = ", ".join(repr(a.name) for a in self.artifacts) or "none"
        raise KeyError(f"run #{self.seq} has no artifact {name!r} (it has: {names})")

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return (
            f"<RunRecord #{self.seq}{label} {self.status.value} experiment={self.experiment!r} "
            f"params={len(self.params)} metrics={len(self.metrics)}>"
        )


def load_run(store: Store, run_id: str) -> RunRecord:
    """Read one run (that exists) with everything attached to it."""
    r = t.runs.c
    with store.read() as conn:
        row = conn.execute(
            sa.select(t.runs, t.experiments.c.name.label("experiment"))
            .select_from(t.runs.join(t.experiments))
            .where(r.run_id == run_id)
        ).one()
        params = conn.execute(sa.select(t.params).where(t.params.c.run_id == run_id)).all()
        sums = conn.execute(sa.select(t.metric_summaries).where(t.metric_summaries.c.run_id == run_id)).all()
        tags = conn.execute(sa.select(t.tags).where(t.tags.c.run_id == run_id)).all()
        notes = (
            conn.execute(
                sa.select(t.notes.c.text).where(t.notes.c.run_id == run_id).order_by(t.notes.c.note_id)
            )
            .scalars()
            .all()
        )
        arts = conn.execute(
            sa.select(t.artifacts).where(t.artifacts.c.run_id == run_id).order_by(t.artifacts.c.name)
        ).all()
    info = run_info(row._mapping)
    nan = float("nan")
    summaries = {}
    for row in sums:
        s = row._mapping  # `row.count` would be the tuple method
        summaries[s["key"]] = MetricSummary(
            s["key"],
            nan if s["last"] is None else s["last"],
            s["last_step"],
            nan if s["min"] is None else s["min"],
            nan if s["max"] is None else s["max"],
            s["count"],
        )
    return RunRecord(
        info=info,
        params={p.key: decode_param(p.value_json, p.value_str, p.value_num, p.vtype) for p in params},
        metrics={k: s.last for k, s in summaries.items()},
        summaries=summaries,
        tags={g.key: g.value for g in tags},
        notes=list(notes),
        artifacts=[ArtifactInfo(a.name, a.mime, a.size, a.sha256, a.uri, a.created) for a in arts],
        param_origins={p.key: p.origin for p in params},
        _store=store,
    )


def run_info(m: Any) -> RunInfo:
    """A RunInfo from a row mapping of runs + experiment name."""
    return RunInfo(
        run_id=m["run_id"],
        seq=m["seq"],
        name=m["name"],
        experiment=m["experiment"],
        status=Status(m["status"]),
        start_time=m["start_time"],
        end_time=m["end_time"],
        heartbeat=m["heartbeat"],
        host=m["host"],
        pid=m["pid"],
        user=m["user"],
        source=m["source"],
        notebook=m["notebook"],
        cell_id=m["cell_id"],
        execution_count=m["execution_count"],
        git_commit=m["git_commit"],
        git_dirty=m["git_dirty"],
        error=m["error"],
        context=json.loads(m["context"]) if m["context"] else {},
    )
