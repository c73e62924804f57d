"""The live chart, with a recording publisher instead of a kernel: when it appears, redraws and freezes."""

from __future__ import annotations

import time
from typing import Any

import nbtrack
from nbtrack.api import Session
from nbtrack.ui.live import PLOTLY_MIME, LiveChart

XSS = "<img src=x onerror=alert(1)>"


class Recorder:
    """Collects what the chart would display: (bundle, metadata, display_id, update)."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], dict[str, Any], str, bool]] = []

    def __call__(
        self, bundle: dict[str, Any], metadata: dict[str, Any], display_id: str, update: bool
    ) -> None:
        self.calls.append((bundle, metadata, display_id, update))


def _wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_chart_appears_after_the_delay_redraws_one_display_and_freezes(session: Session) -> None:
    shown = Recorder()
    with nbtrack.start_run(name="live") as run:
        chart = LiveChart(run, session.tracker.writer.flush, shown, interval=0.05, delay=0.2)
        for step in range(5):
            run.log(loss=1 / (step + 1))
        session.tracker.writer.flush()
        assert shown.calls == []  # before the delay: nothing in the cell's output
        _wait_for(lambda: len(shown.calls) >= 1)
        for step in range(5, 10):
            run.log(loss=1 / (step + 1))
        session.tracker.writer.flush()
        _wait_for(lambda: len(shown.calls) >= 2)
    chart.freeze()
    updates = [update for _, _, _, update in shown.calls]
    assert updates[0] is False and all(updates[1:])
    assert len({display_id for _, _, display_id, _ in shown.calls}) == 1
    bundle, metadata, _, _ = shown.calls[-1]
    assert metadata["nbtrack"]["live"] is False and metadata["nbtrack"]["frames"] == len(shown.calls)
    (trace,) = bundle[PLOTLY_MIME]["data"]
    assert trace["name"] == "loss"
    assert "FINISHED" in bundle[PLOTLY_MIME]["layout"]["title"]["text"]
    assert "text/html" in bundle  # the frozen chart carries a static form
    assert chart._on_written not in run.sink.watchers


def test_a_run_that_ends_before_the_delay_shows_nothing(session: Session) -> None:
    shown = Recorder()
    with nbtrack.start_run() as run:
        chart = LiveChart(run, session.tracker.writer.flush, shown, interval=0.05, delay=10)
        run.log(loss=1.0)
        run.log(loss=0.5)
    chart.freeze()
    assert shown.calls == [] and not chart.shown


def test_long_curves_are_kept_to_the_point_budget_with_their_extremes(session: Session) -> None:
    shown = Recorder()
    with nbtrack.start_run() as run:
        chart = LiveChart(run, session.tracker.writer.flush, shown, interval=10, delay=0, max_points=100)
        for step in range(20_000):
            run.log(x=float(step % 1000), step=step)
            if step % 5000 == 0:
                session.tracker.writer.flush()
    chart.freeze()
    bundle, _, _, _ = shown.calls[-1]
    (trace,) = bundle[PLOTLY_MIME]["data"]
    import base64

    import numpy as np

    y = trace["y"]
    values = np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]) if isinstance(y, dict) else y
    assert len(values) <= 100 and min(values) == 0 and max(values) == 999
    assert sum(len(p[0]) for p in chart._parts["x"]) <= 8 * 100


def test_keys_and_run_names_are_escaped_in_the_chart(session: Session) -> None:
    shown = Recorder()
    with nbtrack.start_run(name=XSS) as run:
        chart = LiveChart(run, session.tracker.writer.flush, shown, interval=10, delay=0)
        run.log({XSS: 1.0})
        run.log({XSS: 2.0})
    chart.freeze()
    bundle, _, _, _ = shown.calls[-1]
    assert XSS not in bundle["text/html"] and "&lt;img src=x onerror=alert(1)&gt;" in bundle["text/html"]
    layout = bundle[PLOTLY_MIME]["layout"]
    assert XSS not in str(layout) and XSS not in str(bundle[PLOTLY_MIME]["data"])


def test_the_frozen_chart_carries_nbtracks_own_chart_with_the_same_points(session: Session) -> None:
    from nbtrack.ui.live import CHART_MIME

    shown = Recorder()
    with nbtrack.start_run(name=XSS) as run:
        chart = LiveChart(run, session.tracker.writer.flush, shown, interval=0.05, delay=0.0)
        for step in range(50):
            run.log({"acc": step / 49, **{f"k{i}": step * i for i in range(5)}}, step=step * 10)
        session.tracker.writer.flush()
        _wait_for(lambda: len(shown.calls) >= 1)
        assert CHART_MIME not in shown.calls[-1][0]  # live frames are Plotly's alone
    chart.freeze()
    bundle = shown.calls[-1][0]
    data = bundle[CHART_MIME]
    assert data["title"] == f"run #{run.seq} {XSS} · FINISHED"  # raw: the renderer sets it as text
    assert [p["key"] for p in data["panels"]] == ["acc", "k0", "k1", "k2"] and data["more"] == 2
    acc = data["panels"][0]
    assert acc["x"] == list(range(0, 500, 10)) and acc["last"] == 1.0
    assert acc["y"][:3] == [0.0, float(f"{1 / 49:.6g}"), float(f"{2 / 49:.6g}")]


def test_chart_data_makes_missing_values_gaps_and_keeps_the_last_value() -> None:
    import numpy as np

    from nbtrack.query.downsample import Points
    from nbtrack.ui.figures import Series, chart_data

    points = Points(np.array([0, 1, 2, 3]), np.array([1.0, np.nan, np.inf, 0.1234567891]), np.zeros(4))
    data = chart_data([Series("run #1", "loss", points, 0.0)], "run #1 · FINISHED")
    assert data["panels"] == [
        {"key": "loss", "last": 0.1234567891, "x": [0, 1, 2, 3], "y": [1.0, None, None, 0.123457]}
    ]
    nan_last = Points(np.array([0, 1]), np.array([1.0, np.nan]), np.zeros(2))
    assert chart_data([Series("r", "k", nan_last, 0.0)], "t")["panels"][0]["last"] is None
