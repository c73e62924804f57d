"""Chunk packing round-trips every point exactly, including NaN and infinities."""

from __future__ import annotations

import math
from dataclasses import astuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbtrack.errors import StoreError
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


# -- the current layouts (NARROW_DELTAS, VALUE_PLANES) and the ones written before them ------------
def _bits(a: np.ndarray) -> list[int]:
    return np.asarray(a, dtype="<f8").view("<u8").tolist()


def _encode_as_before_planes(steps: list[int], values: list[float], times: list[float]) -> tuple:
    """A chunk row as nbtrack wrote it before VALUE_PLANES (8-byte deltas, all planes in one stream)."""
    import zlib

    s = np.asarray(steps, dtype=np.int64)
    t = np.rint(np.asarray(times, dtype=np.float64) * 1e6).astype(np.int64)
    v = np.asarray(values, dtype="<f8")

    def delta(a: np.ndarray) -> bytes:
        d = np.empty_like(a)
        d[0] = a[0]
        np.subtract(a[1:], a[:-1], out=d[1:])
        return zlib.compress(d.astype("<i8").tobytes(), 1)

    shuffled = zlib.compress(v.view(np.uint8).reshape(-1, 8).T.tobytes(), 1)
    encoding, values_b = chunks.DELTA_ZLIB, v.tobytes()
    if len(shuffled) < 0.9 * len(values_b):
        encoding, values_b = encoding | chunks.VALUES_SHUFFLED, shuffled
    return (len(s), encoding, delta(s), values_b, delta(t))


EXTREMES = [
    0.0,
    -0.0,
    math.nan,
    -math.nan,
    math.inf,
    -math.inf,
    5e-324,  # the smallest subnormal
    -5e-324,
    2.2250738585072014e-308,  # the smallest normal
    1.7976931348623157e308,  # the largest finite
    -1.7976931348623157e308,
    1e-300,
    1e300,
    0.1,
    1 / 3,
]


def test_extreme_values_keep_every_bit_in_a_compressed_chunk() -> None:
    values = EXTREMES * 20  # enough points for the compressed layout
    payload = np.array([0x7FF8_0000_DEAD_BEEF], dtype="<u8").view("<f8")  # a NaN with a payload
    values = np.concatenate([np.asarray(values), payload, -payload])
    steps = list(range(len(values)))
    enc = chunks.encode(steps, values, [1.7e9] * len(values))
    assert enc.encoding & chunks.NARROW_DELTAS
    assert enc.encoding & chunks.VALUE_PLANES
    got = chunks.decode(enc.count, enc.encoding, enc.steps, enc.values, enc.times)
    assert _bits(got.values) == _bits(values)
    assert got.steps.tolist() == steps


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True), min_size=8, max_size=400),
    st.lists(st.integers(-(2**63), 2**63 - 1), min_size=8, max_size=400),
    st.integers(0, 4_000_000_000_000_000),
    st.lists(st.integers(0, 70_000), min_size=8, max_size=400),
)
def test_the_current_layout_round_trips_any_values_steps_and_times_exactly(
    values: list[float], steps: list[int], t0: int, gaps: list[int]
) -> None:
    n = min(len(values), len(steps), len(gaps))
    values, steps = values[:n], steps[:n]  # any int64 steps: deltas wrap and unwrap exactly
    micros = t0 + np.cumsum(np.asarray(gaps[:n], dtype=np.int64))
    enc = chunks.encode(steps, values, micros / 1e6)
    assert enc.encoding & chunks.NARROW_DELTAS
    got = chunks.decode(enc.count, enc.encoding, enc.steps, enc.values, enc.times)
    assert got.steps.tolist() == steps
    assert _bits(got.values) == _bits(np.asarray(values))
    assert (got.nanos // 1000).tolist() == micros.tolist()
    assert (got.nanos % 1000 == 0).all()
    assert got.times.tolist() == (micros / 1e6).tolist()


@pytest.mark.parametrize(("gap", "width"), [(1, 1), (127, 1), (-128, 1), (128, 2), (40_000, 4), (2**40, 8)])
def test_deltas_are_stored_at_the_narrowest_width_that_holds_them(gap: int, width: int) -> None:
    steps = [gap * i for i in range(20)]
    enc = chunks.encode(steps, [0.5] * 20, [1.7e9] * 20)
    assert enc.steps[8] == width  # after the 8-byte first value
    got = chunks.decode(enc.count, enc.encoding, enc.steps, enc.values, enc.times)
    assert got.steps.tolist() == steps


def test_incompressible_byte_planes_are_stored_raw_and_compressible_ones_zlibbed() -> None:
    rng = np.random.default_rng(1)
    values = 1.0 + rng.random(10_000)  # exponent bytes constant, mantissa bytes random
    enc = chunks.encode(range(10_000), values, np.full(10_000, 1.7e9))
    mask = enc.values[0]
    assert mask & 0x80  # the top byte (sign + exponent) compresses
    assert not mask & 0x01  # the lowest mantissa byte is noise: kept raw, never inflated
    assert len(enc.values) < 8 * 10_000


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-(2**40), 2**40), st.floats(allow_nan=True, allow_infinity=True)),
        min_size=8,
        max_size=300,
    )
)
def test_chunks_written_before_the_byte_plane_layout_still_decode(points: list[tuple[int, float]]) -> None:
    steps, values = (list(x) for x in zip(*points, strict=True))
    times = [1.7e9 + 1e-6 * i for i in range(len(steps))]
    row = _encode_as_before_planes(steps, values, times)
    got = chunks.decode(*row)
    assert got.steps.tolist() == steps
    assert _bits(got.values) == _bits(np.asarray(values))
    assert np.allclose(got.times, times, atol=1e-6, rtol=0)


def test_a_history_mixing_every_layout_decodes_in_order() -> None:
    n = 50
    old = _encode_as_before_planes(list(range(n)), [0.1 * i for i in range(n)], [1.7e9 + i for i in range(n)])
    small = chunks.encode([n, n + 1], [7.0, 8.0], [1.8e9, 1.8e9 + 1])
    new = chunks.encode(range(n + 2, 2 * n), [0.5] * (n - 2), [1.9e9] * (n - 2))
    rows = [old, *(astuple(c) for c in (small, new))]
    got = chunks.decode_rows(rows)
    assert got.steps.tolist() == list(range(2 * n))
    assert got.values.tolist() == [0.1 * i for i in range(n)] + [7.0, 8.0] + [0.5] * (n - 2)
    assert got.times[n] == 1.8e9
    assert got.values.flags.writeable and got.steps.flags.writeable


def test_a_chunk_with_unknown_encoding_flags_asks_for_a_newer_nbtrack() -> None:
    enc = chunks.encode(range(10), [1.0] * 10, [1.7e9] * 10)
    with pytest.raises(StoreError, match="upgrade nbtrack"):
        chunks.decode(enc.count, enc.encoding | 0x100, enc.steps, enc.values, enc.times)


def test_a_damaged_chunk_is_a_store_error() -> None:
    enc = chunks.encode(range(10), [1.0] * 10, [1.7e9] * 10)
    with pytest.raises(StoreError, match="damaged"):
        chunks.decode(enc.count, enc.encoding, enc.steps[:12], enc.values, enc.times)


def test_points_built_from_float_times_give_nanoseconds_and_back() -> None:
    p = chunks.Points(np.arange(2), np.zeros(2), np.array([1.7e9 + 0.000_001, 1.7e9 + 2.5]))
    assert p.nanos.tolist() == [1_700_000_000_000_001_000, 1_700_000_002_500_000_000]
    q = chunks.Points(np.arange(2), np.zeros(2), nanos=p.nanos)
    assert q.times.tolist() == p.times.tolist()
    with pytest.raises(TypeError):
        chunks.Points(np.arange(2), np.zeros(2))
