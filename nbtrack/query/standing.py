"""How a run's metric compares with earlier runs: best so far, and the change since the previous run.

"Previous" is the latest earlier run (lower seq) of the same notebook cell when the run knows its cell,
else of the same experiment; "best so far" looks at every other run of the experiment with the metric.
The run itself is described by the caller (it may not be written yet), so only *other* runs are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from nbtrack.model import RunPlace, lower_is_better
from nbtrack.store import schema as t
from nbtrack.store.prepared import Prepared
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
        if self.value != self.value:  # NaN is never best
            return False
        if self.best_other is None:
            return True
        return self.value <= self.best_other if self.lower_is_better else self.value >= self.best_other


def _statements() -> dict[str, Prepared]:
    """The four query shapes, built once with bound parameters (building them costs more than running)."""
    r, s, e = t.runs.c, t.metric_summaries.c, t.experiments.c
    joined = t.runs.join(t.metric_summaries, s.run_id == r.run_id).join(
        t.experiments, e.experiment_id == r.experiment_id
    )
    others = sa.and_(
        e.name == sa.bindparam("experiment"),
        s.key == sa.bindparam("key"),
        r.run_id != sa.bindparam("run_id"),
    )
    same_cell = sa.and_(
        r.cell_id == sa.bindparam("cell_id"),
        r.notebook.is_not_distinct_from(sa.bindparam("notebook")),
    )
    previous = (
        sa.select(r.seq, s["last"])
        .select_from(joined)
        .where(others, r.seq < sa.bindparam("seq"))
        .order_by(r.seq.desc())
        .limit(1)
    )
    return {
        "min": Prepared(sa.select(sa.func.min(s["last"])).select_from(joined).where(others)),
        "max": Prepared(sa.select(sa.func.max(s["last"])).select_from(joined).where(others)),
        "previous": Prepared(previous),
        "previous_in_cell": Prepared(previous.where(same_cell)),
    }


_STATEMENTS = _statements()


def metric_standing(store: Store, place: RunPlace, key: str, value: float) -> Standing:
    """The standing of ``value`` of metric ``key`` for the run at ``place``, among the other runs."""
    lower = lower_is_better(key)
    params: dict[str, Any] = {"experiment": place.experiment, "key": key, "run_id": place.run_id}
    with store.read() as conn:
        best = _STATEMENTS["min" if lower else "max"].execute(conn, params)[0][0]
        if place.cell_id:
            found = _STATEMENTS["previous_in_cell"].execute(
                conn, {**params, "seq": place.seq, "cell_id": place.cell_id, "notebook": place.notebook}
            )
        else:
            found = _STATEMENTS["previous"].execute(conn, {**params, "seq": place.seq})
    previous = found[0] if found else None
    return Standing(
        key=key,
        value=value,
        lower_is_better=lower,
        best_other=None if best is None else float(best),
        previous_seq=None if previous is None else int(previous[0]),
        previous_value=None if previous is None or previous[1] is None else float(previous[1]),
    )
