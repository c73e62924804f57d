"""Charts as pure functions: data in, Plotly figure out — shared by the widgets and the static views.

Nothing here reads the store or touches a widget, so every chart can be checked in a test without a
browser. User strings (run names, keys, param values) are HTML-escaped before they reach Plotly, which
renders a subset of HTML in names and labels.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from nbtrack.query.downsample import Points

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

XAxis = Literal["step", "wall", "relative"]

#: one colour per run, the same in every chart of a panel (Plotly's default qualitative palette)
PALETTE = (
    "#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a",
    "#19d3f3", "#ff6692", "#b6e880", "#ff97ff", "#fecb52",
)  # fmt: skip


@dataclass(frozen=True)
class Series:
    """One curve: the points of metric ``key`` of one run, and how to label it."""

    run: str  # the run's label, e.g. "#12 baseline"
    key: str
    points: Points
    start_time: float  # the run's start (epoch seconds), for x = relative time
    exact: bool = True  # False when the points were downsampled


def safe(text: object) -> str:
    """A user string as Plotly may show it: ``& < >`` escaped, so no tag can form (Plotly renders tags).

    Quotes stay as they are: with no tag there is no attribute to break out of, and plotly.js does not
    decode ``&quot;`` (it would show literally).
    """
    return html.escape(str(text), quote=False)


def color_of(index: int) -> str:
    """The colour of the ``index``-th run of a panel."""
    return PALETTE[index % len(PALETTE)]


def ema(values: np.ndarray, weight: float) -> np.ndarray:
    """Debiased exponential moving average (TensorBoard's smoothing); NaN values are skipped over."""
    if not 0 <= weight < 1:
        raise ValueError(f"smoothing must be in [0, 1), got {weight}")
    if weight == 0 or len(values) == 0:
        return values
    import pandas as pd

    return pd.Series(values).ewm(alpha=1 - weight, adjust=True, ignore_na=True).mean().to_numpy()


def x_values(series: Series, x: XAxis) -> Any:
    """The x coordinates of a curve: steps, wall-clock datetimes, or seconds since the run started."""
    if x == "step":
        return compact(series.points.steps)
    if x == "relative":
        return (series.points.times - series.start_time).astype(np.float32)
    if x == "wall":
        return _datetimes(series.points.times)
    raise ValueError(f"x must be 'step', 'wall' or 'relative', got {x!r}")


def compact(values: np.ndarray) -> np.ndarray:
    """Arrays as small as a chart needs: saved notebooks carry them (base64 typed arrays, 4 bytes each).

    Steps become int32 when they fit; values become float32 (7 significant digits, NaN kept).
    """
    if values.dtype.kind in "iu":
        fits = len(values) == 0 or (values.min() >= -(2**31) and values.max() < 2**31)
        return values.astype(np.int32) if fits else values
    return values.astype(np.float32)


def _datetimes(seconds: np.ndarray) -> np.ndarray:
    return (seconds * 1e6).astype("int64").astype("datetime64[us]")


def curves_figure(
    series: Sequence[Series],
    x: XAxis = "step",
    smoothing: float = 0.0,
    log_y: bool = False,
    height: int = 360,
) -> go.Figure:
    """Overlaid metric curves, one colour per run and one dash style per key.

    With ``smoothing`` each curve is drawn smoothed, over its raw line in a faint tone.
    """
    import plotly.graph_objects as go

    runs = list(dict.fromkeys(s.run for s in series))
    keys = list(dict.fromkeys(s.key for s in series))
    dashes = ("solid", "dash", "dot", "dashdot", "longdash")
    fig = go.Figure()
    for s in series:
        color = color_of(runs.index(s.run))
        dash = dashes[keys.index(s.key) % len(dashes)]
        xs = x_values(s, x)
        name = safe(f"{s.run} · {s.key}" if len(keys) > 1 else s.run)
        common = {"x": xs, "mode": "lines", "legendgroup": name, "meta": {"run": s.run, "key": s.key}}
        if smoothing:
            fig.add_scatter(
                y=compact(s.points.values), line={"color": color, "width": 1, "dash": dash}, opacity=0.25,
                showlegend=False, hoverinfo="skip", **common,
            )  # fmt: skip
            smooth = compact(ema(s.points.values, smoothing))
            fig.add_scatter(y=smooth, name=name, line={"color": color, "dash": dash}, **common)
        else:
            line = {"color": color, "dash": dash}
            fig.add_scatter(y=compact(s.points.values), name=name, line=line, **common)
    title = {"step": "step", "wall": "time", "relative": "seconds since start"}[x]
    fig.update_layout(
        height=height,
        margin={"l": 50, "r": 10, "t": 30, "b": 40},
        xaxis_title=title,
        yaxis_title=safe(keys[0]) if len(keys) == 1 else "value",
        yaxis_type="log" if log_y else "linear",
        legend={"orientation": "h", "y": -0.2},
        uirevision="nbtrack",  # keep zoom and legend choices when the data is replaced
    )
    return fig


def parallel_figure(frame: pd.DataFrame, params: Sequence[str], metric: str) -> go.Figure:
    """Parallel coordinates of ``params`` (columns ``params.<name>``) against ``metric``.

    Text-valued params become ordinal axes labelled with their (escaped) values.
    """
    import pandas as pd
    import plotly.graph_objects as go

    dimensions = []
    for name in params:
        column = frame[f"params.{name}"]
        numeric = pd.to_numeric(column, errors="coerce")
        if numeric.notna().sum() == column.notna().sum():
            dimensions.append({"label": safe(name), "values": numeric.to_numpy(dtype=float)})
        else:
            labels = sorted({str(v) for v in column.dropna()})
            code = {label: i for i, label in enumerate(labels)}
            codes = [code[str(v)] if v is not None and v == v else None for v in column]
            dimensions.append(
                {
                    "label": safe(name),
                    "values": np.array([np.nan if c is None else c for c in codes], dtype=float),
                    "tickvals": list(range(len(labels))),
                    "ticktext": [safe(label) for label in labels],
                }
            )
    values = pd.to_numeric(frame[f"metrics.{metric}"], errors="coerce").to_numpy(dtype=float)
    dimensions.append({"label": safe(metric), "values": values})
    line: dict[str, Any] = {"color": values, "colorscale": "Viridis", "showscale": True}
    fig = go.Figure(go.Parcoords(dimensions=dimensions, line=line))
    fig.update_layout(height=360, margin={"l": 60, "r": 60, "t": 50, "b": 30})
    return fig


def scatter_figure(frame: pd.DataFrame, param: str, metric: str) -> go.Figure:
    """One point per run: param value (x) against metric value (y), labelled with the run."""
    import plotly.graph_objects as go

    labels = [safe(f"#{seq}") for seq in frame["seq"]]
    fig = go.Figure(
        go.Scatter(
            x=frame[f"params.{param}"].map(lambda v: v if isinstance(v, (int, float)) else safe(v)),
            y=frame[f"metrics.{metric}"],
            mode="markers+text",
            text=labels,
            textposition="top center",
            marker={"size": 10, "color": [color_of(i) for i in range(len(frame))]},
        )
    )
    fig.update_layout(
        height=320,
        margin={"l": 50, "r": 10, "t": 30, "b": 40},
        xaxis_title=safe(param),
        yaxis_title=safe(metric),
    )
    return fig


def live_figure(series: Sequence[Series], title: str = "", max_keys: int = 4, height: int = 230) -> go.Figure:
    """One run's curves as it runs: a small chart per key (the first ``max_keys``), against steps."""
    from plotly.subplots import make_subplots

    shown = list(series)[:max_keys]
    titles = []
    for s in shown:
        last = s.points.values[-1] if len(s.points.values) else float("nan")
        titles.append(safe(f"{s.key} = {last:.4g}"))
    fig = make_subplots(rows=1, cols=max(1, len(shown)), subplot_titles=titles or None)
    for i, s in enumerate(shown, start=1):
        fig.add_scatter(
            x=compact(s.points.steps), y=compact(s.points.values), mode="lines", name=safe(s.key),
            line={"color": color_of(i - 1), "width": 1.5}, showlegend=False, row=1, col=i,
        )  # fmt: skip
    fig.update_annotations(font_size=12)
    more = len(series) - len(shown)
    caption = safe(title) + (f" (+{more} more keys)" if more > 0 else "")
    fig.update_layout(
        height=height,
        margin={"l": 40, "r": 10, "t": 50, "b": 30},
        title={"text": caption, "font": {"size": 13}, "x": 0.01, "y": 0.98},
        uirevision="nbtrack-live",
    )
    return fig


def chart_data(series: Sequence[Series], title: str, max_keys: int = 4) -> dict[str, Any]:
    """One run's curves as nbtrack's own chart mime type draws them (a small chart per key, the first
    ``max_keys``): plain numbers, values to 6 significant digits. Strings stay raw: that renderer only
    ever sets them as text."""
    shown = list(series)[:max_keys]
    panels = []
    for s in shown:
        values = [float(f"{v:.6g}") if math.isfinite(v) else None for v in s.points.values.tolist()]
        last = float(s.points.values[-1]) if len(s.points.values) else math.nan
        panels.append(
            {
                "key": s.key,
                "last": last if math.isfinite(last) else None,
                "x": s.points.steps.tolist(),
                "y": values,
            }
        )
    return {"title": title, "panels": panels, "more": max(0, len(series) - len(shown))}
