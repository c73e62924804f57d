"""Packing of metric points into chunk rows (one row per key per flush, not a row per point).

A chunk holds ``count`` points as three byte strings: steps (int64, delta-encoded), timestamps (int64
microseconds, delta-encoded) and values (float64 little-endian; byte-shuffled and zlib'd when that saves
space). Deltas are zlib'd except in chunks of a few points, where zlib's header costs more bytes than it
saves and its setup costs more time than the rest of the encoding. NaN and ±inf survive unchanged,
which plain SQL REAL columns cannot promise.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Encoding flags stored with each chunk so the format can evolve.
DELTA_ZLIB = 1  # steps and times: delta + zlib (else the raw little-endian deltas)
VALUES_SHUFFLED = 2  # values: byte-shuffled float64 + zlib

#: Chunks with fewer points store their deltas and values uncompressed.
SMALL_CHUNK = 8

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


def _delta(a: npt.NDArray[np.int64], compress: bool) -> bytes:
    d = np.empty_like(a)
    if len(a):
        d[0] = a[0]
        np.subtract(a[1:], a[:-1], out=d[1:])
    raw = d.astype("<i8", copy=False).tobytes()
    return zlib.compress(raw, _ZLEVEL) if compress else raw


def _undelta(b: bytes, count: int, compressed: bool) -> npt.NDArray[np.int64]:
    d = np.frombuffer(zlib.decompress(b) if compressed else b, dtype="<i8", count=count)
    return np.cumsum(d, dtype=np.int64)


def encode(steps: npt.ArrayLike, values: npt.ArrayLike, times: npt.ArrayLike) -> EncodedChunk:
    """Pack parallel sequences of points into one chunk."""
    s = np.asarray(steps, dtype=np.int64)
    v = np.asarray(values, dtype="<f8")
    t = np.rint(np.asarray(times, dtype=np.float64) * 1e6).astype(np.int64)
    values_b = v.tobytes()
    if len(s) < SMALL_CHUNK:
        return EncodedChunk(len(s), 0, _delta(s, False), values_b, _delta(t, False))
    encoding = DELTA_ZLIB
    shuffled = zlib.compress(v.view(np.uint8).reshape(-1, 8).T.tobytes(), _ZLEVEL)
    if len(shuffled) < 0.9 * len(values_b):
        encoding |= VALUES_SHUFFLED
        values_b = shuffled
    return EncodedChunk(len(s), encoding, _delta(s, True), values_b, _delta(t, True))


def decode(count: int, encoding: int, steps: bytes, values: bytes, times: bytes) -> Points:
    """Unpack one chunk into arrays."""
    compressed = bool(encoding & DELTA_ZLIB)
    s = _undelta(steps, count, compressed)
    t = _undelta(times, count, compressed).astype(np.float64) / 1e6
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
