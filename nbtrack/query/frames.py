"""Runs as a pandas DataFrame, in the column convention MLflow users know.

Columns: ``run_id, seq, name, experiment, status, start_time, end_time, duration`` then
``params.<k>``, ``metrics.<k>`` (last value) and ``tags.<k>``. Values come from the per-run tables
(params, metric summaries, tags) — never from point histories — so the table stays fast.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
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
    offset: int = 0,
) -> sa.Select[Any]:
    """The SELECT of matching runs' attributes (filter parsed, never evaluated); ``offset`` pages."""
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
    if offset:
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError(f"offset must be a non-negative integer, got {offset!r}")
        stmt = stmt.offset(offset)
    return stmt


def runs_frame(store: Store, stmt: sa.Select[Any], columns: Collection[str] | None = None) -> pd.DataFrame:
    """Execute a :func:`select_runs` statement and pivot params/metrics/tags into columns.

    ``columns`` (e.g. ``["params.lr", "metrics.loss"]``) limits the pivoted columns to those named:
    only their values are read (a table page loads what it shows).
    """
    import pandas as pd

    restricted = not (stmt.whereclause is None and stmt._limit_clause is None and stmt._offset_clause is None)
    ids: Any = _run_ids(stmt) if restricted else None
    p, m, g = t.params.c, t.metric_summaries.c, t.tags.c
    wanted = _wanted_keys(columns)
    with store.read() as conn:
        rows = conn.execute(stmt).all()
        if restricted and stmt._limit_clause is not None and rows:
            ids = [row[0] for row in rows]  # a page: its run ids are known, and few
        params: list[tuple[Any, ...]] = []
        metrics: list[tuple[Any, ...]] = []
        tags: list[tuple[Any, ...]] = []
        if rows:
            # value_str holds JSON for lists/dicts, so value_json need not travel (it is the costliest)
            param_columns = [p.run_id, p.key, p.value_str, p.value_num, p.vtype]
            params = _children(conn, param_columns, ids, wanted["params"])
            metrics = _children(conn, [m.run_id, m.key, m["last"]], ids, wanted["metrics"])
            tags = _children(conn, [g.run_id, g.key, g.value], ids, wanted["tags"])
    n = len(rows)
    index = {row[0]: i for i, row in enumerate(rows)}
    data: dict[str, list[Any]] = {name: [row[i] for row in rows] for i, name in enumerate(BASE_COLUMNS[:-1])}
    starts, ends = data["start_time"], data["end_time"]
    data["duration"] = [None if e is None else e - s for s, e in zip(starts, ends, strict=True)]
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
        data.update((prefix + key, values) for key, values in sorted(part.items()))
    frame = pd.DataFrame(data)
    for name in ("start_time", "end_time"):
        frame[name] = pd.to_datetime(frame[name].astype("float64"), unit="s", utc=True)
    frame["duration"] = frame["duration"].astype("float64")
    frame["seq"] = frame["seq"].astype("int64")
    return frame


def _run_ids(stmt: sa.Select[Any]) -> sa.ScalarSelect[Any]:
    """The run ids ``stmt`` selects, as a subquery (ordering kept only where a page needs it)."""
    ids = stmt.with_only_columns(t.runs.c.run_id)
    if stmt._limit_clause is None and stmt._offset_clause is None:
        ids = ids.order_by(None)
    return ids.scalar_subquery()


def _wanted_keys(columns: Collection[str] | None) -> dict[str, list[str] | None]:
    """The keys of each kind named by ``columns`` (None: every key of that kind)."""
    if columns is None:
        return {"params": None, "metrics": None, "tags": None}
    wanted: dict[str, list[str] | None] = {"params": [], "metrics": [], "tags": []}
    for column in columns:
        kind, dot, key = column.partition(".")
        if dot and kind in wanted:
            wanted[kind].append(key)  # type: ignore[union-attr]
    return wanted


def _children(
    conn: sa.Connection,
    columns: list[Any],
    ids: sa.ScalarSelect[Any] | list[str] | None,
    keys: list[str] | None = None,
) -> list[tuple[Any, ...]]:
    """Rows of one per-run table, as plain tuples (only runs ``ids`` and ``keys``, when given)."""
    if keys is not None and not keys:
        return []
    stmt = sa.select(*columns)
    if ids is not None:
        stmt = stmt.where(columns[0].in_(ids))
    if keys is not None:
        stmt = stmt.where(columns[1].in_(keys))
    return fetch_tuples(conn, stmt)
