"""Packing of metric points into chunk rows (one row per key per flush, not a row per point).

A chunk holds ``count`` points as three byte strings: steps (int64, delta-encoded, zlib), timestamps
(int64 microseconds, delta-encoded, zlib) and values (float64 little-endian; byte-shuffled and zlib'd when
that saves space). NaN and ±inf survive unchanged, which plain SQL REAL columns cannot promise.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Encoding flags stored with each chunk so the format can evolve.
DELTA_ZLIB = 1  # steps and times: delta + zlib (always set in format 1)
VALUES_SHUFFLED = 2  # values: byte-shuffled float64 + zlib

_ZLEVEL = 1  # speed over ratio: the writer runs beside the user's training loop


@dataclass(frozen=True, slots=True)
class EncodedChunk:
    """One chunk row's payload."""

    count: int
    encoding: int
    steps: bytes
    values: bytes
    times: bytes


@dataclass(frozen=True, slots=True)
class Points:
    """Decoded points: parallel arrays of steps, values and timestamps (float seconds)."""

    steps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    times: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.steps)


def _delta(a: npt.NDArray[np.int64]) -> bytes:
    d = np.empty_like(a)
    if len(a):
        d[0] = a[0]
        np.subtract(a[1:], a[:-1], out=d[1:])
    return zlib.compress(d.astype("<i8", copy=False).tobytes(), _ZLEVEL)


def _undelta(b: bytes, count: int) -> npt.NDArray[np.int64]:
    d = np.frombuffer(zlib.decompress(b), dtype="<i8", count=count)
    return np.cumsum(d, dtype=np.int64)


def encode(steps: npt.ArrayLike, values: npt.ArrayLike, times: npt.ArrayLike) -> EncodedChunk:
    """Pack parallel sequences of points into one chunk."""
    s = np.asarray(steps, dtype=np.int64)
    v = np.asarray(values, dtype="<f8")
    t = np.rint(np.asarray(times, dtype=np.float64) * 1e6).astype(np.int64)
    raw = v.tobytes()
    shuffled = zlib.compress(v.view(np.uint8).reshape(-1, 8).T.tobytes(), _ZLEVEL)
    encoding = DELTA_ZLIB
    values_b = raw
    if len(shuffled) < 0.9 * len(raw):
        encoding |= VALUES_SHUFFLED
        values_b = shuffled
    return EncodedChunk(len(s), encoding, _delta(s), values_b, _delta(t))


def decode(count: int, encoding: int, steps: bytes, values: bytes, times: bytes) -> Points:
    """Unpack one chunk into arrays."""
    s = _undelta(steps, count)
    t = _undelta(times, count).astype(np.float64) / 1e6
    if encoding & VALUES_SHUFFLED:
        planes = np.frombuffer(zlib.decompress(values), dtype=np.uint8).reshape(8, count)
        v = np.ascontiguousarray(planes.T).view("<f8").reshape(count)
    else:
        v = np.frombuffer(values, dtype="<f8", count=count)
    return Points(s, v.astype(np.float64, copy=False), t)


def concat(parts: Sequence[Points]) -> Points:
    """Join decoded chunks in order."""
    if not parts:
        return Points(np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, np.float64))
    if len(parts) == 1:
        return parts[0]
    return Points(
        np.concatenate([p.steps for p in parts]),
        np.concatenate([p.values for p in parts]),
        np.concatenate([p.times for p in parts]),
    )
