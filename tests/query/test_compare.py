"""Reading runs for comparison: params and metrics side by side, best runs, curves, code, images, env."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

import nbtrack
from nbtrack.api import Session
from nbtrack.errors import RunNotFound
from nbtrack.query.compare import Comparison, diff_code, load_comparison, load_curves


def make_run(
    name: str | None = None,
    experiment: str = "exp",
    params: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    curve: dict[str, int] | None = None,
    context: dict[str, Any] | None = None,
    **attributes: Any,
) -> nbtrack.Run:
    """A finished run made through the tracking API (``curve``: key -> number of points 0..n-1)."""
    if context is not None:
        attributes["context"] = json.dumps(context)
    with nbtrack.start_run(name=name, experiment=experiment, params=params, **attributes) as run:
        if metrics:
            run.log(metrics)
        for key, n in (curve or {}).items():
            for step in range(n):
                run.log({key: 1.0 / (step + 1)}, step=step)
    return run


def compare(session: Session, refs: Any, directions: dict[str, str] | None = None) -> Comparison:
    return load_comparison(session.reconciled(), refs, directions)


def test_params_side_by_side_mark_differing_and_missing_values(session: Session) -> None:
    make_run(params={"lr": 0.1, "opt": "adam", "layers": [64, 32]})
    make_run(params={"lr": 0.01, "opt": "adam", "layers": [64, 32], "dropout": 0.5})
    c = compare(session, [1, 2])
    rows = {row.key: row for row in c.params}
    assert rows["lr"].differs and rows["lr"].values == (0.1, 0.01)
    assert not rows["opt"].differs and not rows["layers"].differs  # equal lists are equal
    assert rows["dropout"].differs and rows["dropout"].present == (False, True)
    assert c.varying_params == ["dropout", "lr"]


def test_best_run_per_metric_lower_for_loss_higher_for_accuracy(session: Session) -> None:
    make_run(metrics={"loss": 0.5, "accuracy": 0.7})
    make_run(metrics={"loss": 0.3, "accuracy": 0.6})
    make_run(metrics={"loss": 0.4, "accuracy": 0.9})
    c = compare(session, [1, 2, 3])
    assert c.metric("loss").direction == "min" and c.metric("loss").best == (1,)
    assert c.metric("accuracy").direction == "max" and c.metric("accuracy").best == (2,)
    assert not c.metric("loss").explicit


def test_directions_given_override_the_name_and_can_change_later(session: Session) -> None:
    make_run(metrics={"score": 1.0, "loss": 2.0})
    make_run(metrics={"score": 3.0, "loss": 1.0})
    c = compare(session, [1, 2], directions={"score": "min", "loss": "higher"})
    assert c.metric("score").best == (0,) and c.metric("score").explicit
    assert c.metric("loss").direction == "max" and c.metric("loss").best == (0,)
    changed = c.with_directions({"score": "max"})
    assert changed.metric("score").best == (1,)
    assert changed.metric("loss").direction == "max"  # the earlier override stays
    with pytest.raises(ValueError, match=r"direction of metric 'score' must be 'min' or 'max', got 'up'"):
        compare(session, [1, 2], directions={"score": "up"})


def test_nan_and_missing_values_never_win_and_a_lone_value_is_not_marked(session: Session) -> None:
    make_run(metrics={"loss": float("nan"), "acc": 0.5})
    make_run(metrics={"loss": 0.7})
    make_run(metrics={"loss": 0.9, "acc": float("nan")})
    c = compare(session, [1, 2, 3])
    loss, acc = c.metric("loss"), c.metric("acc")
    assert loss.best == (1,)
    assert math.isnan(loss.values[0])
    assert acc.counts == (1, 0, 1)
    assert acc.best == ()  # one finite value: nothing to compare it with


def test_ties_mark_every_best_run(session: Session) -> None:
    make_run(metrics={"acc": 1.0})
    make_run(metrics={"acc": 1.0})
    make_run(metrics={"acc": 0.5})
    assert compare(session, [1, 2, 3]).metric("acc").best == (0, 1)


def test_references_resolve_in_the_order_given_and_each_run_once(session: Session) -> None:
    runs = [make_run(name=f"r{i}") for i in range(4)]
    record = nbtrack.get_run(1)
    c = compare(session, [3, "#2", runs[3].run_id, record, 2, runs[3].run_id[:24]])
    assert c.labels == ("#3 r2", "#2 r1", "#4 r3", "#1 r0")
    frame = nbtrack.runs(filter="attributes.name != 'r0'")
    assert sorted(compare(session, frame).labels) == ["#2 r1", "#3 r2", "#4 r3"]
    assert compare(session, 4).labels == ("#4 r3",)


def test_nothing_to_compare_and_unknown_runs_are_clear_errors(session: Session) -> None:
    make_run()
    with pytest.raises(ValueError, match="nothing to compare: give at least one run"):
        compare(session, [])
    with pytest.raises(RunNotFound, match="no run #7"):
        compare(session, [1, 7])


def test_runs_of_two_experiments_compare_like_any_others(session: Session) -> None:
    make_run(experiment="mnist", params={"lr": 0.1}, metrics={"acc": 0.9})
    make_run(experiment="cifar", params={"lr": 0.1}, metrics={"acc": 0.6})
    c = compare(session, [1, 2])
    assert [r.experiment for r in c.records] == ["mnist", "cifar"]
    assert c.metric("acc").best == (0,)
    assert c.frame[["seq", "experiment", "params.lr", "metrics.acc"]].values.tolist() == [
        [1, "mnist", 0.1, 0.9],
        [2, "cifar", 0.1, 0.6],
    ]


def test_frame_has_one_row_per_run_with_lists_as_json_text(session: Session) -> None:
    make_run(params={"layers": [64, 32], "lr": 0.1})
    make_run(params={"lr": 0.2}, metrics={"loss": 0.1})
    frame = compare(session, [2, 1]).frame
    assert frame["seq"].tolist() == [2, 1]
    assert frame["params.layers"].isna().tolist() == [True, False] and frame["params.layers"][1] == "[64, 32]"
    assert frame["metrics.loss"].dtype == "float64" and math.isnan(frame["metrics.loss"][1])


def test_curves_are_downsampled_and_exact_within_a_step_range(session: Session) -> None:
    make_run(curve={"loss": 10_000, "acc": 10})
    make_run(curve={"acc": 10})
    c = compare(session, [1, 2])
    assert c.curve_keys == ["acc", "loss"]
    full = load_curves(session.reconciled(), c, ["loss", "acc"])
    assert [(rc.index, rc.key) for rc in full] == [(0, "loss"), (0, "acc"), (1, "acc")]
    loss = full[0].curve
    assert not loss.exact and loss.total == 10_000 and len(loss.points) <= 2000
    zoomed = load_curves(session.reconciled(), c, ["loss"], steps=(100, 199))[0].curve
    assert zoomed.exact and zoomed.points.steps.tolist() == list(range(100, 200))


def test_code_diff_marks_deleted_and_added_lines_with_their_numbers(session: Session) -> None:
    make_run(source="lr = 0.1\nmodel = fit(lr)\nprint(model)\n")
    make_run(source="lr = 0.01\nmodel = fit(lr)\nprint(model)\nsave(model)\n")
    c = compare(session, [1, 2])
    lines = [(d.kind, d.text, d.old, d.new) for d in c.diff_code(0, 1)]
    assert lines == [
        ("del", "lr = 0.1", 1, None),
        ("add", "lr = 0.01", None, 1),
        ("same", "model = fit(lr)", 2, 2),
        ("same", "print(model)", 3, 3),
        ("add", "save(model)", None, 4),
    ]
    assert all(d.kind == "same" for d in diff_code("a\nb", "a\nb"))


def test_images_are_the_image_artifacts_with_their_bytes(session: Session) -> None:
    with nbtrack.start_run() as run:
        run.log_artifact(b"\x89PNG fake", name="outputs/000.png")
        run.log_artifact(b"<svg xmlns='http://www.w3.org/2000/svg'/>", name="outputs/001.svg")
        run.log_artifact(b"<b>html</b>", name="outputs/002.html")
    c = load_comparison(session.reconciled(), [1], max_image_bytes=12)
    assert [(i.name, i.mime, i.data) for i in c.images[0]] == [
        ("outputs/000.png", "image/png", b"\x89PNG fake"),
    ]
    assert c.images_omitted == (1,)  # the svg is over 12 bytes; the html is no image at all
    c = load_comparison(session.reconciled(), [1])
    assert [i.name for i in c.images[0]] == ["outputs/000.png", "outputs/001.svg"]
    assert c.images_omitted == (0,)
    assert load_comparison(session.reconciled(), [1], max_images=1).images_omitted == (1,)


def test_environment_rows_show_python_git_and_package_differences(session: Session) -> None:
    base = {"python": "3.11.7", "platform": "Linux-6-x86_64", "kernel_id": "k1"}
    make_run(
        context={
            **base,
            "git": {"branch": "main", "dirty": False},
            "packages": {"numpy": "2.1", "torch": "2.4"},
        },
        git_commit="a" * 40,
        git_dirty=False,
    )
    make_run(
        context={
            **base,
            "kernel_id": "k2",
            "git": {"branch": "exp"},
            "packages": {"numpy": "2.2", "torch": "2.4"},
        },
        git_commit="b" * 40,
        git_dirty=True,
    )
    rows = {(r.group, r.key): r for r in compare(session, [1, 2]).env}
    assert not rows["run", "python"].differs and rows["run", "python"].values == ("3.11.7", "3.11.7")
    assert rows["git", "commit"].differs and rows["git", "dirty"].values == ("clean", "dirty")
    assert rows["git", "branch"].values == ("main", "exp")
    assert rows["package", "numpy"].differs and not rows["package", "torch"].differs
    assert ("run", "kernel_id") not in rows  # differs on every run: noise, not a difference
    assert ("run", "host") in rows  # a run column, known even without context
