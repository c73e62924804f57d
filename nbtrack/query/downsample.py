"""Downsampling metric curves for charts: a few thousand points per trace, whatever the run logged.

Min/max buckets (the M4 scheme): the points are cut into buckets of equal count, and each bucket keeps
its first, last, lowest and highest point. A line drawn through those is, at chart resolution, the
line through every point — spikes and dips survive, which averaging or plain striding would lose.
It is O(n) in numpy (a million points in a few milliseconds). NaN values are kept where they fall as
a bucket's first or last point (a chart shows them as gaps) but never chosen as its min or max.

Zooming asks again with the visible step range: the points in range are returned exactly when they
fit, else downsampled again at the finer scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nbtrack.store.chunks import Points

__all__ = ["DEFAULT_MAX_POINTS", "Curve", "Points", "downsample", "in_range", "minmax_indices"]

DEFAULT_MAX_POINTS = 2000
"""Enough for a chart a thousand pixels wide: four points (first, min, max, last) per two pixels."""


@dataclass(frozen=True)
class Curve:
    """Points to draw for one metric of one run, and how they relate to what was logged."""

    points: Points
    total: int  # points logged in the requested range
    exact: bool  # True: every point in the range is here; False: min/max-bucket downsampled


def in_range(points: Points, low: float | None = None, high: float | None = None) -> Points:
    """The points whose step lies in ``[low, high]`` (None: unbounded)."""
    if low is None and high is None:
        return points
    keep = np.ones(len(points), dtype=bool)
    if low is not None:
        keep &= points.steps >= low
    if high is not None:
        keep &= points.steps <= high
    return Points(points.steps[keep], points.values[keep], points.times[keep])


def downsample(points: Points, max_points: int = DEFAULT_MAX_POINTS) -> Curve:
    """At most ``max_points`` of ``points`` (sorted by step) that draw as the same line."""
    if max_points < 4:
        raise ValueError(f"max_points must be at least 4, got {max_points}")
    n = len(points)
    order = _step_order(points.steps)
    if order is not None:
        points = Points(points.steps[order], points.values[order], points.times[order])
    if n <= max_points:
        return Curve(points, n, True)
    keep = minmax_indices(points.values, max_points // 4)
    return Curve(Points(points.steps[keep], points.values[keep], points.times[keep]), n, False)


def minmax_indices(values: npt.NDArray[np.float64], buckets: int) -> npt.NDArray[np.intp]:
    """Sorted indices of each bucket's first, lowest, highest and last value (equal-count buckets)."""
    n = len(values)
    buckets = max(1, min(buckets, n))
    size = -(-n // buckets)  # ceil: every bucket but the last holds ``size`` values
    full = n // size
    parts = []
    if full:
        block = values[: full * size].reshape(full, size)
        starts = np.arange(full) * size
        parts += [starts, starts + size - 1, starts + _nan_arg(block, np.argmin, np.inf)]
        parts.append(starts + _nan_arg(block, np.argmax, -np.inf))
    if full * size < n:  # the shorter last bucket
        tail = values[full * size :]
        start = full * size
        parts.append(np.array([start, n - 1, start + _nan_arg(tail[None, :], np.argmin, np.inf)[0]]))
        parts.append(np.array([start + _nan_arg(tail[None, :], np.argmax, -np.inf)[0]]))
    return np.unique(np.concatenate(parts))


def _nan_arg(block: npt.NDArray[np.float64], arg: object, fill: float) -> npt.NDArray[np.intp]:
    """Row-wise argmin/argmax that never picks a NaN (an all-NaN row gives its first index)."""
    filled = np.where(np.isnan(block), fill, block)
    return arg(filled, axis=1)  # type: ignore[operator]


def _step_order(steps: npt.NDArray[np.int64]) -> npt.NDArray[np.intp] | None:
    """The stable order that sorts ``steps``, or None when they are sorted already (the usual case)."""
    if len(steps) < 2 or bool(np.all(steps[1:] >= steps[:-1])):
        return None
    return np.argsort(steps, kind="stable")
