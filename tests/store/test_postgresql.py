"""The same store on a real PostgreSQL server: schema, migrations, runs, run numbers and %%track.

(The filter grammar runs against PostgreSQL too: see ``tests/query/test_filter_sql.py``.)
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from nbformat.v4 import new_code_cell, new_notebook

import nbtrack
from nbtrack.errors import StoreError
from nbtrack.model import RunPlace, Status
from nbtrack.query.standing import metric_standing
from nbtrack.store import migrate
from nbtrack.store.schema import metadata
from nbtrack.store.store import Store
from nbtrack.testing import isolated_session
from tests.e2e.kernel import Job, execute


def _counter(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT value FROM counters")).scalar_one())
    finally:
        engine.dispose()


def test_a_new_postgresql_store_is_migrated_to_the_table_definitions(postgres_url: str) -> None:
    store = Store(postgres_url)
    try:
        with store.read() as conn:
            assert migrate.current_revision(conn) == migrate.HEAD_REVISION
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        store.dispose()


def test_an_older_postgresql_store_is_upgraded_and_keeps_its_runs(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        migrate._upgrade(conn, "0002")
        conn.execute(sa.text("INSERT INTO experiments (name, created) VALUES ('e', 0)"))
        conn.execute(
            sa.text(
                "INSERT INTO runs (run_id, seq, experiment_id, status, start_time) "
                "VALUES ('r1', 1, 1, 'FINISHED', 0)"
            )
        )
        conn.execute(sa.text("UPDATE counters SET value = 1"))  # as nbtrack 0002 kept it
        conn.execute(
            sa.text(
                "INSERT INTO metric_summaries (run_id, key, last, last_step, min, max, count, last_time) "
                "VALUES ('r1', 'acc', 0.5, 0, 0.5, 0.5, 1, 0)"
            )
        )
    engine.dispose()
    with isolated_session(postgres_url):
        frame = nbtrack.runs()
        assert frame["metrics.acc"].tolist() == [0.5]
        with nbtrack.start_run(experiment="e") as run:
            run.log(acc=0.6)
        assert run.seq == 2


def test_runs_params_metrics_tags_notes_and_artifacts_round_trip(postgres_url: str) -> None:
    with isolated_session(postgres_url):
        params = {"lr": 1e-3, "layers": [64, 32], "opt": "adam"}
        with nbtrack.start_run(experiment="pg", params=params) as run:
            for step in range(5000):
                run.log(loss=1.0 / (step + 1))
            run.log(acc=float("nan"))
            run.set_tags(stage="dev")
            run.note("on postgres")
            run.log_artifact(b"weights", name="model.pkl")
        record = nbtrack.get_run(run.seq)
        assert record.status is Status.FINISHED
        assert record.params == {"lr": 0.001, "layers": [64, 32], "opt": "adam"}
        assert record.metrics["loss"] == pytest.approx(1 / 5000)
        assert record.summaries["loss"].count == 5000
        assert record.tags == {"stage": "dev"} and record.notes == ["on postgres"]
        assert record.artifact_bytes("model.pkl") == b"weights"
        assert record.history("loss")["step"].tolist() == list(range(5000))
        frame = nbtrack.runs("params.opt = 'adam' AND metrics.loss < 0.001", experiment="pg")
        assert frame["seq"].tolist() == [run.seq]
        assert nbtrack.runs("metrics.acc > 0").empty  # NaN matches no comparison


def test_runs_created_at_once_from_two_connections_get_distinct_numbers(postgres_url: str) -> None:
    stores = [Store(postgres_url), Store(postgres_url)]
    seqs: list[int] = []
    errors: list[BaseException] = []
    from nbtrack.store.writes import create_run

    def create(store: Store, prefix: str) -> None:
        try:
            for i in range(40):
                seqs.append(create_run(store, {"run_id": f"{prefix}{i}", "start_time": 1.0}, "e"))
        except StoreError as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(s, p)) for s, p in zip(stores, "ab", strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.dispose()
    assert errors == []
    assert sorted(seqs) == list(range(1, 81))


def test_background_runs_use_reserved_numbers_and_give_the_rest_back(postgres_url: str) -> None:
    with isolated_session(postgres_url, flush_interval=3600) as session:
        tracker = session.tracker
        first = tracker.start_run(background=True, experiment="e", cell_id="c", notebook="n")
        first.log(acc=0.5)
        first.end()
        second = tracker.start_run(background=True, experiment="e", cell_id="c", notebook="n")
        assert second.seq == 2  # reserved: known before anything is written
        second.log(acc=0.8)
        second.end()
        standing = metric_standing(session.store(), RunPlace("x", 3, "e", "n", "c"), "acc", 0.7)
        assert standing.best_other == 0.8 and (standing.previous_seq, standing.previous_value) == (2, 0.8)
        assert _counter(postgres_url) > 2
    assert _counter(postgres_url) == 2  # the numbers left were given back at exit


def test_track_magic_in_a_kernel_writes_to_postgresql(tmp_path: Path, postgres_url: str) -> None:
    cells = [
        new_code_cell("%load_ext nbtrack"),
        *[new_code_cell(f"%%track -e pg\nlr = {lr}\nacc = 0.5 + lr") for lr in (0.1, 0.3, 0.2)],
    ]
    nb = new_notebook(
        cells=cells,
        metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
    )
    result = execute(Job(nb, tmp_path / "pg.ipynb", env={"NBTRACK_STORE": postgres_url}))
    lines = [
        next(o for o in cell.outputs if o.output_type == "display_data").data["text/plain"]
        for cell in result.notebook.cells[1:]
    ]
    assert lines[0].startswith("run #1 · lr=0.1 → acc 0.6 · ")
    assert "run #2 · lr=0.3 → acc 0.8 (best so far) · " in lines[1]  # "vs #N": same cell only
    assert "run #3 · lr=0.2 → acc 0.7 · " in lines[2]
    with isolated_session(postgres_url):
        frame = nbtrack.runs(order_by="seq")
        assert frame["params.lr"].tolist() == [0.1, 0.3, 0.2]
        assert frame["status"].tolist() == ["FINISHED"] * 3
