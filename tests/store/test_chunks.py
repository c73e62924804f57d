"""Chunk packing round-trips every point exactly, including NaN and infinities."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nbtrack.store import chunks


def _roundtrip(steps: list[int], values: list[float], times: list[float]) -> chunks.Points:
    enc = chunks.encode(steps, values, times)
    return chunks.decode(enc.count, enc.encoding, enc.steps, enc.values, enc.times)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-(2**40), 2**40),
            st.floats(allow_nan=True, allow_infinity=True),
            st.floats(0, 4e9),
        ),
        min_size=1,
        max_size=300,
    )
)
def test_any_points_round_trip(points: list[tuple[int, float, float]]) -> None:
    steps, values, times = (list(x) for x in zip(*points, strict=True))
    got = _roundtrip(steps, values, times)
    assert got.steps.tolist() == steps
    assert np.array_equal(got.values, np.array(values), equal_nan=True)
    assert np.allclose(got.times, times, atol=1e-6, rtol=0)


def test_non_finite_values_keep_their_bits() -> None:
    got = _roundtrip([0, 1, 2], [math.nan, math.inf, -math.inf], [1.0, 2.0, 3.0])
    assert math.isnan(got.values[0])
    assert got.values[1] == math.inf
    assert got.values[2] == -math.inf


def test_a_smooth_curve_packs_to_about_ten_bytes_a_point() -> None:
    n = 100_000
    rng = np.random.default_rng(0)
    values = (1 / np.arange(1, n + 1) + rng.normal(0, 0.01, n)).tolist()
    times = (1.7e9 + np.cumsum(rng.uniform(0, 2e-5, n))).tolist()
    enc = chunks.encode(list(range(n)), values, times)
    size = len(enc.steps) + len(enc.values) + len(enc.times)
    assert size / n < 12


def test_concat_keeps_order() -> None:
    a = _roundtrip([0, 1], [1.0, 2.0], [1.0, 1.0])
    b = _roundtrip([2], [3.0], [2.0])
    joined = chunks.concat([a, b])
    assert joined.steps.tolist() == [0, 1, 2]
    assert joined.values.tolist() == [1.0, 2.0, 3.0]
    assert len(chunks.concat([])) == 0


def test_a_few_points_are_stored_uncompressed_and_no_larger_than_their_raw_bytes() -> None:
    enc = chunks.encode([5], [0.25], [1.7e9])
    assert enc.encoding == 0
    assert len(enc.steps) + len(enc.values) + len(enc.times) == 24


def test_small_chunks_compressed_by_earlier_versions_still_decode() -> None:
    import zlib

    deltas = np.array([3, 1, 1], dtype="<i8").tobytes()
    times = np.array([1_700_000_000_000_000, 10, 10], dtype="<i8").tobytes()
    got = chunks.decode(
        3,
        chunks.DELTA_ZLIB,
        zlib.compress(deltas),
        np.array([1.0, 2.0, 3.0], dtype="<f8").tobytes(),
        zlib.compress(times),
    )
    assert got.steps.tolist() == [3, 4, 5]
    assert got.values.tolist() == [1.0, 2.0, 3.0]
    assert np.allclose(got.times, [1.7e9, 1.7e9 + 1e-5, 1.7e9 + 2e-5], atol=1e-6, rtol=0)
