"""How a run's metric compares with earlier runs: best so far, and the change since the previous run.

"Previous" is the latest earlier run (lower seq) of the same notebook cell when the run knows its cell,
else of the same experiment; "best so far" looks at every other run of the experiment with the metric.
The run itself is described by the caller (it may not be written yet), so only *other* runs are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from nbtrack.model import RunPlace, UnsavedMetric, lower_is_better
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
    """The comparison as one statement per shape, built once with bound parameters.

    One statement, one round trip: best other value, and the previous run's seq and value, as three
    scalar subqueries. Each is an index walk that stops at its first row (see migration 0003), so the
    summary line costs the same with ten runs in the experiment as with a hundred thousand. Run alone
    (no BEGIN/COMMIT around it), it still reads one snapshot: a statement is its own transaction.
    """
    r, s = t.runs.c, t.metric_summaries.c
    experiment = (
        sa.select(t.experiments.c.experiment_id)
        .where(t.experiments.c.name == sa.bindparam("experiment"))
        .scalar_subquery()
    )
    others = sa.and_(
        s.experiment_id == experiment,
        s.key == sa.bindparam("key"),
        s.run_id != sa.bindparam("run_id"),
    )

    def best(order: Any) -> Any:
        return (
            sa.select(s["last"])
            .where(others, s["last"].is_not(None))
            .order_by(order)
            .limit(1)
            .scalar_subquery()
        )

    same_cell = sa.and_(
        r.cell_id == sa.bindparam("cell_id"),
        r.notebook.is_not_distinct_from(sa.bindparam("notebook")),
    )

    def previous(column: Any, in_cell: bool) -> Any:
        found = (
            sa.select(column)
            .select_from(t.runs.join(t.metric_summaries, s.run_id == r.run_id))
            .where(others, r.experiment_id == experiment, r.seq < sa.bindparam("seq"))
        )
        if in_cell:
            found = found.where(same_cell)
        return found.order_by(r.seq.desc()).limit(1).scalar_subquery()

    statements = {}
    for direction, order in (("min", s["last"].asc()), ("max", s["last"].desc())):
        for in_cell in (False, True):
            name = direction + ("_in_cell" if in_cell else "")
            columns = best(order), previous(r.seq, in_cell), previous(s["last"], in_cell)
            statements[name] = Prepared(sa.select(*columns))
    return statements


_STATEMENTS = _statements()


def metric_standing(
    store: Store, place: RunPlace, key: str, value: float, unsaved: Sequence[UnsavedMetric] = ()
) -> Standing:
    """The standing of ``value`` of metric ``key`` for the run at ``place``, among the other runs.

    ``unsaved`` adds runs whose data is still in this process's memory (none of it in the store).
    One statement, outside any explicit transaction: on a notebook cell's path each call into the
    database lets other threads take the interpreter, so the fewer the better.
    """
    lower = lower_is_better(key)
    params: dict[str, Any] = {"experiment": place.experiment, "key": key, "run_id": place.run_id}
    params.update(seq=place.seq, cell_id=place.cell_id, notebook=place.notebook)
    name = ("min" if lower else "max") + ("_in_cell" if place.cell_id else "")
    with store.translate("read"), store.engine.connect() as conn:
        found_best, previous_seq, previous_value = _STATEMENTS[name].execute(conn, params)[0]
    previous = (int(previous_seq), _float(previous_value)) if previous_seq is not None else None
    best = float(found_best) if found_best is not None else None
    for other in unsaved:
        there = other.place
        if there.experiment != place.experiment or there.run_id == place.run_id:
            continue
        if other.value is not None and (best is None or (other.value < best) == lower):
            best = other.value
        same_cell = not place.cell_id or (there.cell_id, there.notebook) == (place.cell_id, place.notebook)
        if same_cell and there.seq < place.seq and (previous is None or there.seq > previous[0]):
            previous = (there.seq, other.value)
    return Standing(
        key=key,
        value=value,
        lower_is_better=lower,
        best_other=best,
        previous_seq=None if previous is None else previous[0],
        previous_value=None if previous is None else previous[1],
    )


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
