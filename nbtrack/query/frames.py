"""Runs as a pandas DataFrame, in the column convention MLflow users know.

Columns: ``run_id, seq, name, experiment, status, start_time, end_time, duration`` then
``params.<k>``, ``metrics.<k>`` (last value) and ``tags.<k>``. Values come from the per-run tables
(params, metric summaries, tags) — never from point histories — so the table stays fast.

Reading 10,000 runs of 20 params is mostly the database's and the driver's work per row, so params
and tags come back as one row per run: the database joins each run's keys, and its values, into one
text each (SQLite ``group_concat``, PostgreSQL ``string_agg``). Param values are stored as JSON, so
a single ``json.loads`` decodes every value of every run with its exact type; runs with the same keys
are split and placed in their columns together, and metric last values are placed with numpy.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nbtrack.query.filter import apply_filter, apply_order
from nbtrack.store import schema as t
from nbtrack.store.store import Store, fetch_tuples

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


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a frame's rows are built.

    Reading 10,000 runs makes hundreds of thousands of objects, none in a cycle; left on, the
    collector walks every object of the process again and again meanwhile (about 15 % of the
    time ``perf`` sampled in ``nbtrack.runs()`` over 10,000 runs).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_collector_paused()
def runs_frame(store: Store, stmt: sa.Select[Any], columns: Collection[str] | None = None) -> pd.DataFrame:
    """Execute a :func:`select_runs` statement and pivot params/metrics/tags into columns.

    ``columns`` (e.g. ``["params.lr", "metrics.loss"]``) limits the pivoted columns to those named:
    only their values are read (a table page loads what it shows).
    """
    import numpy as np
    import pandas as pd

    restricted = not (stmt.whereclause is None and stmt._limit_clause is None and stmt._offset_clause is None)
    ids: Any = _run_ids(stmt) if restricted else None
    p, g = t.params.c, t.tags.c
    wanted = _wanted_keys(columns)
    with store.read() as conn:
        rows = fetch_tuples(conn, stmt)
        if restricted and stmt._limit_clause is not None and rows:
            ids = [row[0] for row in rows]  # a page: its run ids are known, and few
        position = {row[0]: i for i, row in enumerate(rows)}
        params: dict[str, list[Any]] = {}
        metrics: dict[str, Any] = {}
        tags: dict[str, list[Any]] = {}
        if rows:
            params = _value_columns(conn, p.key, p.value_json, True, ids, wanted["params"], position)
            metrics = _metric_columns(conn, ids, wanted["metrics"], position)
            tags = _value_columns(conn, g.key, g.value, False, ids, wanted["tags"], position)
    base = list(zip(*rows, strict=True)) if rows else [()] * (len(BASE_COLUMNS) - 1)
    data: dict[str, Any] = {name: list(base[i]) for i, name in enumerate(BASE_COLUMNS[:-1])}
    starts = np.array(base[5], dtype="float64")
    ends = np.array(base[6], dtype="float64")  # None (still running) becomes NaN
    data["seq"] = np.array(base[1], dtype="int64")
    data["start_time"] = pd.to_datetime(starts, unit="s", utc=True)
    data["end_time"] = pd.to_datetime(ends, unit="s", utc=True)
    data["duration"] = ends - starts
    for prefix, part in (("params.", params), ("metrics.", metrics), ("tags.", tags)):
        data.update((prefix + key, part[key]) for key in sorted(part))
    return pd.DataFrame(data)


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
    return fetch_tuples(conn, _restrict(sa.select(*columns), columns[0], columns[1], ids, keys))


def _restrict(
    stmt: sa.Select[Any],
    run: sa.ColumnElement[Any],
    key: sa.ColumnElement[Any],
    ids: sa.ScalarSelect[Any] | list[str] | None,
    keys: list[str] | None,
) -> sa.Select[Any]:
    """``stmt`` limited to runs ``ids`` and to ``keys``, when given."""
    if ids is not None:
        stmt = stmt.where(run.in_(ids))
    if keys is not None:
        stmt = stmt.where(key.in_(keys))
    return stmt


def _metric_columns(
    conn: sa.Connection,
    ids: sa.ScalarSelect[Any] | list[str] | None,
    keys: list[str] | None,
    position: dict[str, int],
) -> dict[str, Any]:
    """``{key: last values}`` as float64 arrays in the order of ``position`` (NaN: no value, or NaN)."""
    import numpy as np
    import pandas as pd

    m = t.metric_summaries.c
    rows = _children(conn, [m.run_id, m.key, m["last"]], ids, keys)
    if not rows:
        return {}
    row_runs, row_keys, lasts = zip(*rows, strict=True)
    where = np.array([position.get(run_id, -1) for run_id in row_runs], dtype=np.intp)
    mine = where >= 0  # PostgreSQL reads each statement afresh: a run made since is not in the frame
    codes, names = pd.factorize(np.array(row_keys, dtype=object)[mine])
    table = np.full((len(names), len(position)), np.nan)
    table[codes, where[mine]] = np.array(lasts, dtype="float64")[mine]  # NULL (a NaN last value): NaN
    return {name: table[i] for i, name in enumerate(names)}


SEP = "\x1e"  # joins a run's keys (and tag values) in the database: the ASCII record separator


def _value_columns(
    conn: sa.Connection,
    key: sa.Column[Any],
    value: sa.Column[Any],
    is_json: bool,
    ids: sa.ScalarSelect[Any] | list[str] | None,
    keys: list[str] | None,
    position: dict[str, int],
) -> dict[str, list[Any]]:
    """``{key: values}`` of params (``value`` is JSON) or tags (text), in the order of ``position``.

    The database joins each run's keys, and its values, into one text each: a row per run rather
    than a row per value. Param values are JSON, so one ``json.loads`` decodes them all with their
    exact types (ints beyond 2**53, NaN, lists, dicts) -- the same values as ``decode_param``.
    Runs with the same keys (most runs of a cell) are split and placed together.
    """
    if keys is not None and not keys:
        return {}
    run = key.table.c.run_id
    agg = _string_agg(conn.dialect.name)
    if agg is not None:
        joined = agg(key, SEP, key), agg(value, "," if is_json else SEP, key)
        stmt = sa.select(run, sa.func.count(), *joined).group_by(run)
        columns = _split_joined(fetch_tuples(conn, _restrict(stmt, run, key, ids, keys)), is_json, position)
        if columns is not None:
            return columns
    # a database without string aggregation, or a key (or tag value) holding SEP: a row per value
    out: dict[str, list[Any]] = {}
    for run_id, name, text in _children(conn, [run, key, value], ids, keys):
        i = position.get(run_id)
        if i is not None:
            column = out.get(name) or out.setdefault(name, [None] * len(position))
            column[i] = json.loads(text) if is_json else text
    return out


def _split_joined(
    joined: list[tuple[Any, ...]], is_json: bool, position: dict[str, int]
) -> dict[str, list[Any]] | None:
    """Columns from rows ``(run_id, count, keys joined, values joined)``; None if SEP was ambiguous."""
    import numpy as np

    if is_json:
        values = json.loads("[[" + "],[".join([row[3] for row in joined]) + "]]")
    else:
        values = [row[3].split(SEP) for row in joined]
    same_keys: dict[str, list[int]] = {}
    for i, row in enumerate(joined):
        if row[0] in position:  # (PostgreSQL: a run made after the runs were read is left out)
            same_keys.setdefault(row[2], []).append(i)
    out: dict[str, Any] = {}
    for text, members in same_keys.items():
        names = text.split(SEP)
        group = [values[i] for i in members]
        if any(joined[i][1] != len(names) or len(values[i]) != len(names) for i in members):
            return None  # SEP inside a key or a tag value
        where = np.fromiter((position[joined[i][0]] for i in members), dtype=np.intp, count=len(members))
        for name, column in zip(names, zip(*group, strict=True), strict=True):
            target = out.get(name)
            if target is None:
                target = out[name] = np.full(len(position), None, dtype=object)
            target[where] = np.fromiter(column, dtype=object, count=len(members))  # lists stay items
    return {name: column.tolist() for name, column in out.items()}


def _string_agg(dialect: str) -> Callable[[Any, str, Any], Any] | None:
    """``agg(expr, separator, order)``: SQL joining a group's texts, where the database has it."""
    if dialect == "sqlite":  # both aggregates of a SELECT step through the group's rows in one order
        return lambda expr, sep, order: sa.func.group_concat(
            expr, sa.literal(sep, sa.String), type_=sa.String
        )
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        return lambda expr, sep, order: sa.func.string_agg(
            expr, aggregate_order_by(sa.literal(sep, sa.String), order), type_=sa.String
        )
    return None
