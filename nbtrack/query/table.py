"""What a run table shows: one page of matching runs, only the columns on screen, and which columns vary.

A table of 10,000 runs never loads them all: the page is an ``ORDER BY … LIMIT/OFFSET`` in SQL, its
params/metrics/tags are read for the page's runs and the visible columns only, and "which columns
differ" is one ``GROUP BY key`` per kind over the matching runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from nbtrack.query.frames import runs_frame, select_runs
from nbtrack.store import schema as t
from nbtrack.store.store import Store

if TYPE_CHECKING:
    import pandas as pd

KINDS = ("params", "metrics", "tags")


@dataclass(frozen=True)
class TableColumns:
    """The params, metrics and tags of the matching runs, and those whose values are not all equal."""

    total: int  # matching runs
    keys: dict[str, list[str]]  # kind ("params", "metrics", "tags") -> sorted keys
    varying: frozenset[str]  # column names ("params.lr") that differ, or are missing in some runs

    def names(self) -> list[str]:
        """Every column name, params first, then metrics, then tags."""
        return [f"{kind}.{key}" for kind in KINDS for key in self.keys[kind]]


@dataclass(frozen=True)
class TablePage:
    """Runs ``offset`` to ``offset + len(frame)`` of ``total`` matching runs."""

    total: int
    offset: int
    frame: pd.DataFrame  # base columns, then the requested columns the page's runs have


def order_text(column: str, descending: bool) -> str:
    """An order_by item for a table column (``"metrics.loss"`` or an attribute such as ``"seq"``)."""
    kind, dot, key = column.partition(".")
    if dot and kind in KINDS:
        quoted = "`" + key.replace("`", "``") + "`"
        field = f"{kind}.{quoted}"
    else:
        field = f"attributes.{column}"
    return f"{field} {'DESC' if descending else 'ASC'}"


def _matching(filter: str | None, experiment: str | Sequence[str] | None) -> sa.Select[Any]:
    return select_runs(filter, experiment).order_by(None)


def count_runs(store: Store, filter: str | None = None, experiment: str | Sequence[str] | None = None) -> int:
    """How many runs match (FilterError for a bad filter, before any query runs)."""
    stmt = sa.select(sa.func.count()).select_from(_matching(filter, experiment).subquery())
    with store.read() as conn:
        return int(conn.execute(stmt).scalar_one())


def table_columns(
    store: Store, filter: str | None = None, experiment: str | Sequence[str] | None = None
) -> TableColumns:
    """The columns the matching runs have, and which of them vary from run to run."""
    ids = _matching(filter, experiment).with_only_columns(t.runs.c.run_id).scalar_subquery()
    p, m, g = t.params.c, t.metric_summaries.c, t.tags.c
    values = {"params": (p, p.value_str), "metrics": (m, m["last"]), "tags": (g, g.value)}
    total = count_runs(store, filter, experiment)
    keys: dict[str, list[str]] = {}
    varying: set[str] = set()
    with store.read() as conn:
        for kind, (c, value) in values.items():
            # NULL (a NaN metric) counts as one more distinct value, so NaN next to a number differs
            nulls = sa.func.max(sa.case((value.is_(None), 1), else_=0))
            stmt = (
                sa.select(c.key, sa.func.count(), sa.func.count(sa.distinct(value)), nulls)
                .where(c.run_id.in_(ids))
                .group_by(c.key)
                .order_by(c.key)
            )
            keys[kind] = []
            for key, present, distinct, has_null in conn.execute(stmt):
                keys[kind].append(key)
                if present < total or distinct + (has_null or 0) > 1:
                    varying.add(f"{kind}.{key}")
    return TableColumns(total, keys, frozenset(varying))


def table_page(
    store: Store,
    filter: str | None = None,
    experiment: str | Sequence[str] | None = None,
    order_by: str | Sequence[str] | None = None,
    offset: int = 0,
    limit: int = 50,
    columns: Sequence[str] = (),
) -> TablePage:
    """One page of matching runs, sorted, with the values of ``columns`` only."""
    total = count_runs(store, filter, experiment)
    stmt = select_runs(filter, experiment, order_by, limit, offset)
    return TablePage(total, offset, runs_frame(store, stmt, columns))


def runs_with_ids(store: Store, run_ids: Sequence[str], columns: Sequence[str] = ()) -> pd.DataFrame:
    """The runs ``run_ids`` (those that still exist), newest first, with the values of ``columns``."""
    stmt = select_runs().where(t.runs.c.run_id.in_(list(run_ids)))
    return runs_frame(store, stmt, columns)
