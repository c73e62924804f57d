"""Reading runs back: the DataFrame, single runs, run references and crash reconciliation."""

from __future__ import annotations

import math
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import nbtrack
from nbtrack.api import Session
from nbtrack.errors import FilterError, MetricNotFound, RunNotFound
from nbtrack.model import Status
from nbtrack.store import schema as t


def _make_runs() -> list[nbtrack.Run]:
    made = []
    for i, (exp, lr) in enumerate([("mnist", 0.1), ("mnist", 0.001), ("cifar", 0.01)]):
        with nbtrack.start_run(
            name=f"r{i}", experiment=exp, params={"lr": lr, "opt": "adam"}, tags={"i": i}
        ) as run:
            run.log(acc=0.5 + i * 0.2, loss=1.0 - i * 0.1)
        made.append(run)
    return made


def test_runs_frame_has_mlflow_style_columns(session: Session) -> None:
    _make_runs()
    frame = nbtrack.runs()
    assert list(frame.columns[:8]) == [
        "run_id",
        "seq",
        "name",
        "experiment",
        "status",
        "start_time",
        "end_time",
        "duration",
    ]
    assert {"params.lr", "params.opt", "metrics.acc", "metrics.loss", "tags.i"} <= set(frame)
    assert frame["seq"].tolist() == [3, 2, 1]  # newest first by default
    assert isinstance(frame["start_time"].dtype, pd.DatetimeTZDtype)
    assert (frame["duration"] >= 0).all()
    assert frame["params.lr"].dtype == "float64"
    assert frame["tags.i"].tolist() == ["2", "1", "0"]


def test_runs_across_experiments_by_default_and_by_experiment_when_asked(session: Session) -> None:
    _make_runs()
    assert len(nbtrack.runs()) == 3
    assert nbtrack.runs(experiment="mnist")["name"].tolist() == ["r1", "r0"]
    assert len(nbtrack.runs(experiment=["mnist", "cifar"])) == 3


def test_filter_order_and_limit(session: Session) -> None:
    _make_runs()
    frame = nbtrack.runs(filter="metrics.acc > 0.6 and params.lr < 0.05", order_by=["metrics.acc DESC"])
    assert frame["name"].tolist() == ["r2", "r1"]
    assert nbtrack.runs(order_by="params.lr", limit=2)["name"].tolist() == ["r1", "r2"]
    assert nbtrack.runs(filter="params.opt = 'sgd'").empty


def test_empty_result_still_has_the_base_columns(session: Session) -> None:
    frame = nbtrack.runs()
    assert frame.empty
    assert "run_id" in frame.columns


def test_bad_filter_raises_filter_error(session: Session) -> None:
    with pytest.raises(FilterError):
        nbtrack.runs(filter="metrics.acc >")


def test_bad_limit_is_a_clear_error(session: Session) -> None:
    with pytest.raises(ValueError, match="limit"):
        nbtrack.runs(limit=-1)


def test_get_run_by_seq_hash_id_and_prefix(session: Session) -> None:
    runs = _make_runs()
    target = runs[1]
    for ref in (target.seq, f"#{target.seq}", str(target.seq), target.id, target.id[:14], target):
        assert nbtrack.get_run(ref).id == target.id


def test_run_numbers_from_a_runs_frame_are_run_references(session: Session) -> None:
    runs = _make_runs()
    frame = nbtrack.runs()
    newest = frame["seq"].max()
    assert isinstance(newest, np.integer)
    assert nbtrack.get_run(newest).id == runs[-1].id
    assert nbtrack.get_run(np.uint8(1)).id == runs[0].id
    panel = nbtrack.compare([newest])  # raised RunNotFound: not a run reference: np.int64(3)
    assert [r.id for r in panel.comparison.records] == [runs[-1].id]
    assert [r.id for r in nbtrack.compare(newest).comparison.records] == [runs[-1].id]
    assert nbtrack.tag_run(frame["seq"].iloc[-1], {"checked": "yes"}).tags["checked"] == "yes"
    assert nbtrack.delete_runs(frame["seq"].iloc[:2]) == [3, 2]
    assert nbtrack.runs()["seq"].tolist() == [1]


def test_bools_and_numbers_beyond_any_run_are_not_run_references(session: Session) -> None:
    _make_runs()
    for ref in (True, np.bool_(True), 1.0):
        with pytest.raises(RunNotFound, match="not a run reference"):
            nbtrack.get_run(ref)
    with pytest.raises(RunNotFound, match=f"no run #{10**30}"):
        nbtrack.get_run(10**30)
    with pytest.raises(RunNotFound, match="no run #-1 "):
        nbtrack.get_run(np.int64(-1))


def test_unknown_run_is_run_not_found_naming_it(session: Session) -> None:
    _make_runs()
    with pytest.raises(RunNotFound, match="#99"):
        nbtrack.get_run(99)
    with pytest.raises(RunNotFound, match="'nope-nope'"):
        nbtrack.get_run("nope-nope")
    with pytest.raises(RunNotFound):
        nbtrack.get_run(None)


def test_unknown_metric_lists_the_ones_the_run_has(session: Session) -> None:
    runs = _make_runs()
    with pytest.raises(MetricNotFound, match=r"'accuracy'.*'acc', 'loss'"):
        nbtrack.get_run(runs[0].seq).history("accuracy")


def test_nan_last_value_shows_as_nan_in_frame(session: Session) -> None:
    with nbtrack.start_run() as run:
        run.log(x=1.0)
        run.log(x=math.nan)
    frame = nbtrack.runs()
    assert math.isnan(frame["metrics.x"].iloc[0])
    assert nbtrack.get_run(run.seq).summaries["x"].max == 1.0


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_run_of_a_dead_process_is_reported_crashed(session: Session) -> None:
    with nbtrack.start_run() as run:
        run.log(loss=1.0)
    store = session.store()
    with store.write() as conn:
        conn.execute(
            sa.update(t.runs)
            .where(t.runs.c.run_id == run.id)
            .values(status="RUNNING", end_time=None, pid=_dead_pid())
        )
    record = nbtrack.get_run(run.seq)
    assert record.status is Status.CRASHED
    assert record.info.end_time is not None


def test_run_with_stale_heartbeat_on_another_host_is_reported_crashed(session: Session) -> None:
    with nbtrack.start_run() as run:
        pass
    store = session.store()
    stale = time.time() - 3600
    with store.write() as conn:
        conn.execute(
            sa.update(t.runs)
            .where(t.runs.c.run_id == run.id)
            .values(status="RUNNING", end_time=None, host="elsewhere", heartbeat=stale)
        )
    assert nbtrack.runs()["status"].tolist() == ["CRASHED"]


def test_live_run_of_this_process_stays_running(session: Session) -> None:
    run = nbtrack.start_run()
    try:
        assert nbtrack.runs()["status"].tolist() == ["RUNNING"]
    finally:
        run.end()
    assert nbtrack.runs()["status"].tolist() == ["FINISHED"]


def test_run_numbers_are_never_reused_after_deleting_the_newest(session: Session) -> None:
    from nbtrack.store.writes import delete_runs

    runs = _make_runs()
    delete_runs(session.store(), [runs[-1].id])
    with nbtrack.start_run() as run:
        pass
    assert run.seq == 4
    with pytest.raises(RunNotFound):
        nbtrack.get_run(3)
