"""Where runs come from: the notebook and cell of each run, and a notebook's runs grouped by cell."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from nbtrack.query.frames import runs_frame, select_runs
from nbtrack.store import schema as t
from nbtrack.store.store import Store

PER_CELL = 20


def run_places(store: Store, run_ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
    """``run_id -> (notebook path, cell id)`` for the given runs."""
    if not run_ids:
        return {}
    r = t.runs.c
    with store.read() as conn:
        rows = conn.execute(sa.select(r.run_id, r.notebook, r.cell_id).where(r.run_id.in_(list(run_ids))))
        return {row.run_id: (row.notebook, row.cell_id) for row in rows}


def runs_by_cell(
    store: Store, notebook: str, columns: Sequence[str] = (), per_cell: int = PER_CELL
) -> dict[str, Any]:
    """A notebook's runs as ``{cell id: DataFrame of its runs, newest first}`` (at most ``per_cell`` each)."""
    r = t.runs.c
    stmt = select_runs().where(r.notebook == notebook, r.cell_id.is_not(None))
    frame = runs_frame(store, stmt, columns)
    if frame.empty:
        return {}
    places = run_places(store, list(frame["run_id"]))
    frame["cell_id"] = [places[run_id][1] for run_id in frame["run_id"]]
    return {str(cell): group.head(per_cell) for cell, group in frame.groupby("cell_id", sort=False)}
