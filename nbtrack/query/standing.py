"""How a run's metric compares with earlier runs: best so far, and the change since the previous run.

"Previous" is the latest earlier run of the same notebook cell when the run knows its cell, else of
the same experiment; "best so far" looks at every other run of the experiment that has the metric.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from nbtrack.model import lower_is_better
from nbtrack.store import schema as t
from nbtrack.store.store import Store


@dataclass(frozen=True)
class Standing:
    """A metric value of one run, against the others."""

    key: str
    value: float
    lower_is_better: bool
    best_other: float | None  # best value among the experiment's other runs
    previous_seq: int | None
    previous_value: float | None

    @property
    def is_best(self) -> bool:
        """True when no other run of the experiment did better (ties count as best)."""
        if self.best_other is None or self.value != self.value:
            return self.best_other is None and self.value == self.value
        return self.value <= self.best_other if self.lower_is_better else self.value >= self.best_other


def metric_standing(store: Store, run_id: str, key: str) -> Standing | None:
    """The standing of ``run_id``'s last value of ``key``, or None if the run has no such metric."""
    r, s = t.runs.c, t.metric_summaries.c
    with store.read() as conn:
        mine = conn.execute(
            sa.select(r.seq, r.experiment_id, r.notebook, r.cell_id, s["last"])
            .select_from(t.runs.join(t.metric_summaries, s.run_id == r.run_id))
            .where(r.run_id == run_id, s.key == key)
        ).first()
        if mine is None:
            return None
        lower = lower_is_better(key)
        others = (
            sa.select(s["last"])
            .select_from(t.runs.join(t.metric_summaries, s.run_id == r.run_id))
            .where(r.experiment_id == mine.experiment_id, s.key == key, r.run_id != run_id)
        )
        best_fn = sa.func.min if lower else sa.func.max
        best = conn.execute(sa.select(best_fn(others.subquery().c["last"]))).scalar()
        same_place = r.experiment_id == mine.experiment_id
        if mine.cell_id:
            same_place = sa.and_(r.cell_id == mine.cell_id, r.notebook == mine.notebook)
        previous = conn.execute(
            sa.select(r.seq, s["last"])
            .select_from(t.runs.join(t.metric_summaries, s.run_id == r.run_id))
            .where(same_place, s.key == key, r.seq < mine.seq)
            .order_by(r.seq.desc())
            .limit(1)
        ).first()
    value = float("nan") if mine.last is None else float(mine.last)
    return Standing(
        key=key,
        value=value,
        lower_is_better=lower,
        best_other=None if best is None else float(best),
        previous_seq=None if previous is None else int(previous.seq),
        previous_value=None if previous is None or previous.last is None else float(previous.last),
    )
