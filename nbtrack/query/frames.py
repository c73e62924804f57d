"""Runs as a pandas DataFrame, in the column convention MLflow users know.

Columns: ``run_id, seq, name, experiment, status, start_time, end_time, duration`` then
``params.<k>``, ``metrics.<k>`` (last value) and ``tags.<k>``. Values come from the per-run tables
(params, metric summaries, tags) — never from point histories — so the table stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nbtrack.query.filter import apply_filter, apply_order
from nbtrack.store import schema as t
from nbtrack.store.store import Store, fetch_tuples
from nbtrack.store.values import decode_param

if TYPE_CHECKING:
    import pandas as pd

BASE_COLUMNS = [
    "run_id",
    "seq",
    "name",
    "experiment",
    "status",
    "start_time",
    "end_time",
    "duration",
]


def select_runs(
    filter: str | None = None,
    experiment: str | Sequence[str] | None = None,
    order_by: str | Sequence[str] | None = None,
    limit: int | None = None,
) -> sa.Select[Any]:
    """The SELECT of matching runs' attributes (filter parsed, never evaluated)."""
    r = t.runs.c
    stmt = sa.select(
        r.run_id,
        r.seq,
        r.name,
        t.experiments.c.name.label("experiment"),
        r.status,
        r.start_time,
        r.end_time,
    ).select_from(t.runs.join(t.experiments, r.experiment_id == t.experiments.c.experiment_id))
    if experiment is not None:
        names = [experiment] if isinstance(experiment, str) else list(experiment)
        stmt = stmt.where(t.experiments.c.name.in_(names))
    stmt = apply_filter(stmt, filter)
    stmt = apply_order(stmt, order_by)
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit must be a non-negative integer, got {limit!r}")
        stmt = stmt.limit(limit)
    return stmt


def runs_frame(store: Store, stmt: sa.Select[Any]) -> pd.DataFrame:
    """Execute a :func:`select_runs` statement and pivot params/metrics/tags into columns."""
    import pandas as pd

    ids = stmt.with_only_columns(t.runs.c.run_id).scalar_subquery()
    restricted = not (stmt.whereclause is None and stmt._limit_clause is None)
    p, m, g = t.params.c, t.metric_summaries.c, t.tags.c
    with store.read() as conn:
        rows = conn.execute(stmt).all()
        if rows:
            # value_str holds JSON for lists/dicts, so value_json need not travel (it is the costliest)
            params = _children(conn, [p.run_id, p.key, p.value_str, p.value_num, p.vtype], ids, restricted)
            metrics = _children(conn, [m.run_id, m.key, m["last"]], ids, restricted)
            tags = _children(conn, [g.run_id, g.key, g.value], ids, restricted)
        else:
            params = metrics = tags = []
    n = len(rows)
    index = {row[0]: i for i, row in enumerate(rows)}
    columns: dict[str, list[Any]] = {
        name: [row[i] for row in rows] for i, name in enumerate(BASE_COLUMNS[:-1])
    }
    starts, ends = columns["start_time"], columns["end_time"]
    columns["duration"] = [None if e is None else e - s for s, e in zip(starts, ends, strict=True)]
    pivot_params: dict[str, list[Any]] = {}
    for run_id, key, value_str, value_num, vtype in params:
        col = pivot_params.get(key)
        if col is None:
            col = pivot_params[key] = [None] * n
        col[index[run_id]] = decode_param(value_str, value_str, value_num, vtype)
    nan = float("nan")
    pivot_metrics: dict[str, list[Any]] = {}
    for run_id, key, last in metrics:
        col = pivot_metrics.get(key)
        if col is None:
            col = pivot_metrics[key] = [nan] * n
        if last is not None:
            col[index[run_id]] = last
    pivot_tags: dict[str, list[Any]] = {}
    for run_id, key, value in tags:
        col = pivot_tags.get(key)
        if col is None:
            col = pivot_tags[key] = [None] * n
        col[index[run_id]] = value
    for prefix, part in (("params.", pivot_params), ("metrics.", pivot_metrics), ("tags.", pivot_tags)):
        columns.update((prefix + key, values) for key, values in sorted(part.items()))
    frame = pd.DataFrame(columns)
    for name in ("start_time", "end_time"):
        frame[name] = pd.to_datetime(frame[name].astype("float64"), unit="s", utc=True)
    frame["duration"] = frame["duration"].astype("float64")
    frame["seq"] = frame["seq"].astype("int64")
    return frame


def _children(
    conn: sa.Connection, columns: list[Any], ids: sa.ScalarSelect[Any], restricted: bool
) -> list[tuple[Any, ...]]:
    """Rows of one per-run table, as plain tuples (only the selected runs' when restricted)."""
    stmt = sa.select(*columns)
    if restricted:
        stmt = stmt.where(columns[0].in_(ids))
    return fetch_tuples(conn, stmt)
