"""Chart builders are pure: the figures they return say what a user sees (no browser needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nbtrack.query.downsample import Points
from nbtrack.ui.figures import Series, curves_figure, ema, parallel_figure, scatter_figure

XSS = "<img src=x onerror=alert(1)>"


def _series(run: str, key: str, values: list[float], start: float = 100.0) -> Series:
    v = np.asarray(values, dtype=np.float64)
    steps = np.arange(len(v), dtype=np.int64)
    return Series(run, key, Points(steps, v, start + 2.0 * steps), start_time=start)


def test_curves_overlay_one_colour_per_run_and_keep_the_data() -> None:
    fig = curves_figure([_series("#1", "loss", [3, 2, 1]), _series("#2", "loss", [4, 3, 2])])
    assert [t.name for t in fig.data] == ["#1", "#2"]
    assert fig.data[0].line.color != fig.data[1].line.color
    assert list(fig.data[1].y) == [4, 3, 2] and list(fig.data[1].x) == [0, 1, 2]
    assert fig.layout.yaxis.title.text == "loss"


def test_x_can_be_seconds_since_the_run_started_or_wall_time() -> None:
    s = _series("#1", "loss", [3, 2, 1], start=100.0)
    assert list(curves_figure([s], x="relative").data[0].x) == [0.0, 2.0, 4.0]
    wall = curves_figure([s], x="wall").data[0].x
    assert pd.Timestamp(wall[1]) == pd.Timestamp(102.0, unit="s")
    with pytest.raises(ValueError, match="x must be"):
        curves_figure([s], x="epoch")  # type: ignore[arg-type]


def test_smoothing_draws_the_ema_over_a_faint_raw_line_and_log_y_switches_the_axis() -> None:
    fig = curves_figure([_series("#1", "loss", [1, 0, 1, 0])], smoothing=0.5, log_y=True)
    raw, smooth = fig.data
    assert raw.opacity < 1 and raw.showlegend is False
    assert list(raw.y) == [1, 0, 1, 0]
    assert smooth.y[0] == 1 and 0 < smooth.y[-1] < 1
    assert fig.layout.yaxis.type == "log"


def test_ema_is_debiased_and_skips_nan() -> None:
    assert ema(np.array([2.0, 2.0, 2.0]), 0.9).tolist() == [2.0, 2.0, 2.0]  # no pull towards 0
    smoothed = ema(np.array([1.0, np.nan, 1.0]), 0.5)
    assert smoothed[0] == 1.0 and smoothed[2] == 1.0
    with pytest.raises(ValueError, match="smoothing"):
        ema(np.array([1.0]), 1.0)


def test_two_keys_get_dash_styles_and_names_with_the_key() -> None:
    fig = curves_figure([_series("#1", "loss", [1, 2]), _series("#1", "val_loss", [2, 3])])
    assert [t.name for t in fig.data] == ["#1 · loss", "#1 · val_loss"]
    assert fig.data[0].line.dash != fig.data[1].line.dash


def test_user_strings_reach_plotly_escaped() -> None:
    fig = curves_figure([_series(XSS, XSS, [1, 2])])
    assert "<img" not in fig.to_json()
    frame = pd.DataFrame({"seq": [1, 2], f"params.{XSS}": [XSS, "b"], "metrics.acc": [0.5, 0.7]})
    assert "<img" not in parallel_figure(frame, [XSS], "acc").to_json()
    assert "<img" not in scatter_figure(frame, XSS, "acc").to_json()


def test_parallel_coordinates_put_text_params_on_ordinal_axes_and_the_metric_last() -> None:
    frame = pd.DataFrame(
        {
            "seq": [1, 2, 3],
            "params.lr": [0.1, 0.01, 0.001],
            "params.opt": ["adam", "sgd", "adam"],
            "metrics.acc": [0.7, 0.8, 0.9],
        }
    )
    dims = parallel_figure(frame, ["lr", "opt"], "acc").data[0].dimensions
    assert [d.label for d in dims] == ["lr", "opt", "acc"]
    assert list(dims[1].ticktext) == ["adam", "sgd"] and list(dims[1].values) == [0, 1, 0]
    assert list(dims[2].values) == [0.7, 0.8, 0.9]


def test_scatter_has_one_labelled_point_per_run() -> None:
    frame = pd.DataFrame({"seq": [4, 5], "params.lr": [0.1, 0.2], "metrics.acc": [0.5, 0.6]})
    trace = scatter_figure(frame, "lr", "acc").data[0]
    assert list(trace.x) == [0.1, 0.2] and list(trace.y) == [0.5, 0.6] and list(trace.text) == ["#4", "#5"]
