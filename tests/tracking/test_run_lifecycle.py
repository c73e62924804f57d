"""A run's life through the public API: statuses, what is kept, and clear errors."""

from __future__ import annotations

import math
import warnings

import pytest

import nbtrack
from nbtrack.api import Session
from nbtrack.errors import MetricNotFound, NbtrackWarning, RunStateError
from nbtrack.model import Status


def test_start_run_records_params_metrics_tags_notes_and_artifacts(session: Session) -> None:
    with nbtrack.start_run(
        name="baseline",
        experiment="mnist",
        params={"lr": 1e-3, "layers": [64, 32]},
        tags={"stage": "dev"},
    ) as run:
        for step in range(1000):
            run.log(step=step, loss=1.0 / (step + 1), acc=step / 1000)
        run.log_params(batch_size=32)
        run.set_tags(dataset="v2")
        run.note("first try with dropout")
        run.log_artifact(b"weights", name="model.pkl")
    assert run.status is Status.FINISHED
    assert len(run.id) == 32
    assert run.seq == 1
    record = nbtrack.get_run(run.seq)
    assert record.status is Status.FINISHED
    assert record.params == {"lr": 0.001, "layers": [64, 32], "batch_size": 32}
    assert record.metrics == {"loss": pytest.approx(1 / 1000), "acc": pytest.approx(0.999)}
    assert record.summaries["loss"].count == 1000
    assert record.summaries["loss"].min == pytest.approx(1 / 1000)
    assert record.summaries["loss"].max == 1.0
    assert record.tags == {"stage": "dev", "dataset": "v2"}
    assert record.notes == ["first try with dropout"]
    assert record.artifact_bytes("model.pkl") == b"weights"
    history = record.history("loss")
    assert list(history.columns) == ["step", "value", "timestamp"]
    assert history["step"].tolist() == list(range(1000))
    assert history["value"].iloc[0] == 1.0


def test_seq_numbers_count_up_across_experiments(session: Session) -> None:
    seqs = []
    for exp in ("a", "b", "a"):
        with nbtrack.start_run(experiment=exp) as run:
            pass
        seqs.append(run.seq)
    assert seqs == [1, 2, 3]


def test_exception_in_block_records_failed_with_traceback_and_propagates(session: Session) -> None:
    with pytest.raises(ZeroDivisionError), nbtrack.start_run() as run:  # noqa: PT012 - a whole block
        run.log(loss=0.5)
        _ = 1 / 0
    record = nbtrack.get_run(run.id)
    assert record.status is Status.FAILED
    assert record.info.error is not None
    assert "ZeroDivisionError" in record.info.error
    assert record.metrics == {"loss": 0.5}


def test_keyboard_interrupt_records_interrupted_and_keeps_points(session: Session) -> None:
    with pytest.raises(KeyboardInterrupt), nbtrack.start_run() as run:  # noqa: PT012 - a whole block
        for i in range(100):
            run.log(loss=float(i))
        raise KeyboardInterrupt
    record = nbtrack.get_run(run.seq)
    assert record.status is Status.INTERRUPTED
    assert record.summaries["loss"].count == 100


def test_default_steps_count_per_key(session: Session) -> None:
    with nbtrack.start_run() as run:
        for i in range(3):
            nbtrack.log(a=i)
        nbtrack.log(b=1.0)
        nbtrack.log(a=9.0, step=10)
        nbtrack.log(a=10.0)
    record = nbtrack.get_run(run.seq)
    assert record.history("a")["step"].tolist() == [0, 1, 2, 10, 11]
    assert record.history("b")["step"].tolist() == [0]


def test_non_finite_values_are_stored_faithfully(session: Session) -> None:
    with nbtrack.start_run() as run:
        run.log(x=float("nan"))
        run.log(x=float("inf"))
        run.log(x=float("-inf"))
        run.log(y=float("nan"))
    record = nbtrack.get_run(run.seq)
    values = record.history("x")["value"].tolist()
    assert math.isnan(values[0])
    assert values[1:] == [math.inf, -math.inf]
    assert record.metrics["x"] == -math.inf
    assert math.isnan(record.metrics["y"])
    assert record.summaries["x"].min == -math.inf
    assert record.summaries["x"].max == math.inf


def test_numpy_scalars_and_bools_are_numbers(session: Session) -> None:
    np = pytest.importorskip("numpy")
    with nbtrack.start_run() as run:
        run.log(a=np.float32(0.5), b=np.int64(3), c=True, d=np.array(2.5))
    assert nbtrack.get_run(run.seq).metrics == {"a": 0.5, "b": 3.0, "c": 1.0, "d": 2.5}


@pytest.mark.parametrize("bad", ["0.5", None, [1, 2], {"a": 1}, 1 + 2j, object()])
def test_non_numeric_metric_raises_type_error_naming_the_key(session: Session, bad: object) -> None:
    with nbtrack.start_run() as run:
        with pytest.raises(TypeError, match="'val/loss'"):
            run.log({"val/loss": bad})
        run.log(ok=1.0)
    assert nbtrack.get_run(run.seq).metrics == {"ok": 1.0}


def test_non_integer_step_is_a_type_error(session: Session) -> None:
    with nbtrack.start_run() as run, pytest.raises(TypeError, match="step must be an integer"):
        run.log(loss=1.0, step=1.5)  # type: ignore[arg-type]


def test_logging_to_an_ended_run_is_a_clear_error(session: Session) -> None:
    with nbtrack.start_run() as run:
        pass
    with pytest.raises(RunStateError, match="has ended"):
        run.log(loss=1.0)


def test_log_without_active_run_explains_how_to_start_one(session: Session) -> None:
    with pytest.raises(RunStateError, match="start_run"):
        nbtrack.log(loss=1.0)


def test_non_json_param_is_kept_as_repr_with_a_warning(session: Session) -> None:
    class Model:
        def __repr__(self) -> str:
            return "Model(depth=3)"

    with nbtrack.start_run() as run:
        with pytest.warns(NbtrackWarning, match="'model'"):
            run.log_params(model=Model())
        run.log_params(shape=(3, 4), flags={"b", "a"}, nested={"x": [1, {"y": None}]})
    params = nbtrack.get_run(run.seq).params
    assert params["model"] == "Model(depth=3)"
    assert params["shape"] == [3, 4]
    assert params["flags"] == ["a", "b"]
    assert params["nested"] == {"x": [1, {"y": None}]}


def test_typed_params_round_trip(session: Session) -> None:
    values = {"i": 7, "f": 0.25, "b": False, "s": "adam", "n": None, "big": 2**70, "neg": -1e-9}
    with nbtrack.start_run(params=values) as run:
        pass
    assert nbtrack.get_run(run.seq).params == values


def test_keys_with_spaces_dots_slashes_and_unicode_work_everywhere(session: Session) -> None:
    keys = ["my key", "optim.lr", "val/loss", "précision", "Δ loss"]
    with nbtrack.start_run(params={k: 1.5 for k in keys}, tags={k: "t" for k in keys}) as run:
        run.log({k: 2.5 for k in keys})
    record = nbtrack.get_run(run.seq)
    assert set(record.params) == set(keys)
    assert set(record.metrics) == set(keys)
    frame = nbtrack.runs()
    for k in keys:
        assert frame[f"params.{k}"].tolist() == [1.5]
        assert frame[f"metrics.{k}"].tolist() == [2.5]
        assert frame[f"tags.{k}"].tolist() == ["t"]
        quoted = k.replace("`", "``")
        assert len(nbtrack.runs(filter=f"metrics.`{quoted}` > 2 and params.`{quoted}` = 1.5")) == 1
    assert record.history("Δ loss")["value"].tolist() == [2.5]


def test_artifacts_from_file_folder_and_text(session: Session, tmp_path: object) -> None:
    from pathlib import Path

    base = Path(str(tmp_path))
    (base / "model.pkl").write_bytes(b"\x00weights")
    (base / "out").mkdir()
    (base / "out" / "a.txt").write_text("A")
    (base / "out" / "sub").mkdir()
    (base / "out" / "sub" / "b.csv").write_text("x,y\n")
    with nbtrack.start_run() as run:
        assert run.log_artifact(base / "model.pkl") == ["model.pkl"]
        assert run.log_artifact(str(base / "out")) == ["out/a.txt", "out/sub/b.csv"]
        run.log_artifact("hello", name="greeting.txt")
        with pytest.raises(FileNotFoundError, match="name="):
            run.log_artifact(str(base / "missing.bin"))
    record = nbtrack.get_run(run.seq)
    by_name = {a.name: a for a in record.artifacts}
    assert by_name["out/sub/b.csv"].mime == "text/csv"
    assert record.artifact_bytes("model.pkl") == b"\x00weights"
    assert record.artifact_bytes("greeting.txt") == b"hello"


def test_identical_artifacts_are_stored_once(session: Session) -> None:
    for _ in range(3):
        with nbtrack.start_run() as run:
            run.log_artifact(b"same bytes", name="blob.bin")
    store = session.store()
    assert len(list(store.artifacts.stored_hashes())) == 1


def test_points_reach_the_store_within_a_second_without_ending(session: Session) -> None:
    import time

    from nbtrack.query.history import load_points

    run = nbtrack.start_run()
    try:
        for i in range(500):
            run.log(loss=float(i))
        deadline = time.monotonic() + 1.0
        count = 0
        while time.monotonic() < deadline and count < 500:
            time.sleep(0.05)
            # read through a *new* session, i.e. another connection, as another process would
            other = Session(session.config)
            try:
                count = len(load_points(other.store(), run.id, "loss"))
            except MetricNotFound:
                count = 0  # not flushed yet
            other.registry.close_all()
        assert count == 500
    finally:
        run.end()


def test_memory_stays_bounded_when_logging_faster_than_the_store(store_path: object) -> None:
    from nbtrack.testing import isolated_session

    with isolated_session(str(store_path), max_buffered_points=2000, flush_interval=5.0) as s:
        run = s.tracker.start_run()
        peak = 0
        for i in range(30_000):
            run.log(loss=float(i))
            peak = max(peak, run._sink.buffered())
        run.end()
        assert peak <= 2000
        assert nbtrack.get_run(run.seq).summaries["loss"].count == 30_000


def test_warnings_from_nbtrack_are_not_raised_for_plain_use(session: Session) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with nbtrack.start_run(params={"a": 1}) as run:
            run.log(x=1.0)
