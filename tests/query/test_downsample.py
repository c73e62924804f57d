"""Min/max-bucket downsampling keeps what a chart shows: extremes, ends, order and NaN gaps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nbtrack
from nbtrack.api import Session
from nbtrack.query.downsample import downsample, in_range, minmax_indices
from nbtrack.query.history import load_curve
from nbtrack.store.chunks import Points


def _points(values: list[float] | np.ndarray, steps: np.ndarray | None = None) -> Points:
    v = np.asarray(values, dtype=np.float64)
    s = np.arange(len(v), dtype=np.int64) if steps is None else steps
    return Points(s, v, np.arange(len(v), dtype=np.float64))


def test_a_curve_that_fits_is_returned_whole_and_exact() -> None:
    curve = downsample(_points([3.0, 1.0, 2.0]), max_points=10)
    assert curve.exact and curve.total == 3
    assert curve.points.values.tolist() == [3.0, 1.0, 2.0]


def test_a_million_points_become_at_most_max_points_keeping_spikes_dips_and_both_ends() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(0, 1, 1_000_000)
    values[123_457] = 50.0  # a spike
    values[876_543] = -50.0  # a dip
    curve = downsample(_points(values), max_points=4000)
    assert not curve.exact and curve.total == 1_000_000
    assert len(curve.points) <= 4000
    kept = curve.points.values
    assert 50.0 in kept and -50.0 in kept
    assert curve.points.steps[0] == 0 and curve.points.steps[-1] == 999_999
    assert np.all(np.diff(curve.points.steps) > 0)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=32), st.just(math.nan)),
        min_size=1,
        max_size=500,
    ),
    st.integers(1, 60),
)
def test_every_bucket_keeps_its_first_last_min_and_max(values: list[float], buckets: int) -> None:
    v = np.asarray(values, dtype=np.float64)
    keep = minmax_indices(v, buckets)
    assert np.all(np.diff(keep) > 0) and keep[0] == 0 and keep[-1] == len(v) - 1
    assert len(keep) <= 4 * buckets
    finite = v[~np.isnan(v)]
    if len(finite):  # the overall extremes are always kept
        assert np.nanmax(v[keep]) == finite.max()
        assert np.nanmin(v[keep]) == finite.min()


def test_steps_logged_out_of_order_come_back_sorted() -> None:
    curve = downsample(_points([1.0, 2.0, 3.0], steps=np.array([5, 1, 3])), max_points=8)
    assert curve.points.steps.tolist() == [1, 3, 5]
    assert curve.points.values.tolist() == [2.0, 3.0, 1.0]


def test_max_points_below_four_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        downsample(_points([1.0]), max_points=3)


def test_in_range_keeps_the_steps_between_both_bounds() -> None:
    points = _points(np.arange(10.0))
    assert in_range(points, 3, 5).steps.tolist() == [3, 4, 5]
    assert in_range(points, None, 1).steps.tolist() == [0, 1]
    assert in_range(points) is points


def test_zooming_in_on_a_long_run_returns_exact_points(session: Session) -> None:
    with nbtrack.start_run() as run:
        for step in range(100_000):
            run.log(loss=1.0 / (step + 1))
    store = session.store()
    whole = load_curve(store, run.id, "loss", max_points=2000)
    assert not whole.exact and len(whole.points) <= 2000 and whole.total == 100_000
    zoomed = load_curve(store, run.id, "loss", max_points=2000, steps=(50_000, 50_999))
    assert zoomed.exact and zoomed.total == 1000
    assert zoomed.points.steps.tolist() == list(range(50_000, 51_000))
