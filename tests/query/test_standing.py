"""A run's standing among the other runs: best so far, the previous run, and that both are index walks."""

from __future__ import annotations

import math
from typing import Any

import pytest

import nbtrack
from nbtrack import api
from nbtrack.api import Session
from nbtrack.model import RunPlace
from nbtrack.query.standing import _STATEMENTS


def _run(experiment: str, metrics: dict[str, float], cell_id: str | None = None) -> RunPlace:
    attributes: dict[str, Any] = {"cell_id": cell_id, "notebook": "nb.ipynb"} if cell_id else {}
    with nbtrack.start_run(experiment=experiment, **attributes) as run:
        run.log(**metrics)
    return RunPlace(run.id, run.seq, experiment, "nb.ipynb" if cell_id else None, cell_id)


def test_best_so_far_reads_only_other_runs_of_the_same_experiment(session: Session) -> None:
    _run("a", {"acc": 0.8})
    _run("b", {"acc": 0.99})  # another experiment: not a rival
    mine = _run("a", {"acc": 0.9})
    standing = api.metric_standing(mine, "acc", 0.9)
    assert standing.best_other == 0.8 and standing.is_best
    assert (standing.previous_seq, standing.previous_value) == (1, 0.8)


def test_lower_is_better_for_loss_like_names(session: Session) -> None:
    _run("a", {"val_loss": 0.3})
    _run("a", {"val_loss": 0.1})
    mine = _run("a", {"val_loss": 0.2})
    standing = api.metric_standing(mine, "val_loss", 0.2)
    assert standing.lower_is_better and standing.best_other == 0.1 and not standing.is_best
    assert standing.previous_seq == 2


def test_nan_values_are_never_the_best(session: Session) -> None:
    _run("a", {"acc": math.nan})
    _run("a", {"acc": 0.5})
    mine = _run("a", {"acc": 0.4})
    standing = api.metric_standing(mine, "acc", 0.4)
    assert standing.best_other == 0.5 and not standing.is_best
    assert not api.metric_standing(mine, "acc", math.nan).is_best


def test_previous_run_is_the_same_cells_when_the_run_knows_its_cell(session: Session) -> None:
    _run("a", {"acc": 0.1}, cell_id="cell-1")
    _run("a", {"acc": 0.2}, cell_id="cell-2")
    _run("a", {"other": 1.0}, cell_id="cell-1")  # no acc: not comparable
    mine = _run("a", {"acc": 0.3}, cell_id="cell-1")
    standing = api.metric_standing(mine, "acc", 0.3)
    assert (standing.previous_seq, standing.previous_value) == (1, 0.1)
    assert standing.best_other == 0.2


def test_a_first_run_has_no_rival_and_no_previous_run(session: Session) -> None:
    mine = _run("a", {"acc": 0.3})
    standing = api.metric_standing(mine, "acc", 0.3)
    assert standing.best_other is None and standing.previous_seq is None and standing.is_best


def _steps_of(session: Session, name: str) -> int:
    """SQLite virtual-machine steps one standing statement takes (a measure of work, not of time)."""
    statement = _STATEMENTS[name]
    params = {"experiment": "a", "key": "acc", "run_id": "x", "seq": 10**9}
    params.update(cell_id="c", notebook="nb.ipynb")
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    with session.store().read() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.set_progress_handler(count, 1)
        try:
            statement.execute(conn, params)
        finally:
            raw.set_progress_handler(None, 1)
    return steps


@pytest.mark.parametrize("name", sorted(_STATEMENTS))
def test_standing_queries_cost_the_same_with_ten_times_more_runs(session: Session, name: str) -> None:
    """The summary line must not get slower as an experiment grows: each statement is an index walk."""

    def add_runs(n: int) -> None:
        for i in range(n):
            _run("a", {"acc": 0.5 - i / 1000, "loss": 1.0}, cell_id="c" if i % 2 else "d")

    add_runs(20)
    small = _steps_of(session, name)
    add_runs(180)
    large = _steps_of(session, name)
    assert large <= small + 20, (small, large)  # a scan of the experiment's runs would be ~10x
