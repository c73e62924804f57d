"""Packing of metric points into chunk rows (one row per key per flush, not a row per point).

A chunk holds ``count`` points as three byte strings: steps (int64), timestamps (int64 microseconds)
and values (float64). Each row's ``encoding`` flags say how its bytes are laid out, so every layout
ever written stays readable; :func:`encode` writes the newest one:

- steps and times (``NARROW_DELTAS``, with ``DELTA_ZLIB``): the first value as 8 bytes, one byte
  giving the width (1, 2, 4 or 8 bytes) that holds every following delta, then those deltas at that
  width, zlib'd. Steps usually advance by one and a training loop logs microseconds apart, so the
  deltas fit one or two bytes and there is an eighth or a quarter as much to inflate as at 8 bytes.
- values (``VALUE_PLANES``): the float64 bytes as 8 byte planes (byte 0 of every value, then byte 1,
  ...). A mask byte says which planes are zlib'd (4-byte length, then the stream); the others are
  stored raw. Noisy values keep 5-6 planes of random mantissa bytes that zlib cannot shrink; storing
  those raw costs the same bytes and skips inflating them — most of the old decoding time.

Older layouts, still decoded: deltas all at 8 bytes (zlib'd under ``DELTA_ZLIB``, else raw), and
values as all 8 planes in one zlib stream (``VALUES_SHUFFLED``) or raw little-endian float64.
Chunks of fewer than ``SMALL_CHUNK`` points are written in the plain layout (encoding 0): zlib's
header costs more bytes than it saves and its setup more time than the rest. NaN and ±inf survive
unchanged, which plain SQL REAL columns cannot promise.

:func:`decode_rows` decodes a run's chunks straight into one set of arrays (no per-chunk arrays to
concatenate afterwards); history reads use it.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nbtrack.errors import StoreError

#: Encoding flags stored with each chunk so the format can evolve (every combination stays readable).
DELTA_ZLIB = 1  # steps and times: the delta bytes are zlib'd (else raw)
VALUES_SHUFFLED = 2  # values: all 8 byte planes in one zlib stream (written before VALUE_PLANES)
NARROW_DELTAS = 4  # steps and times: first value, width byte, deltas at that width
VALUE_PLANES = 8  # values: mask byte, then each byte plane zlib'd (length-prefixed) or raw
KNOWN = DELTA_ZLIB | VALUES_SHUFFLED | NARROW_DELTAS | VALUE_PLANES

#: Chunks with fewer points store their deltas and values uncompressed.
SMALL_CHUNK = 8

_ZLEVEL = 1  # speed over ratio: the writer runs beside the user's training loop
_HEAD = struct.Struct("<qB")  # NARROW_DELTAS: first value, delta width in bytes
_LENGTH = struct.Struct("<I")  # VALUE_PLANES: length of a zlib'd plane
_KEEP_RAW = 0.9  # a plane (or the old all-planes stream) is zlib'd only below this share of its size


@dataclass(frozen=True, slots=True)
class EncodedChunk:
    """One chunk row's payload."""

    count: int
    encoding: int
    steps: bytes
    values: bytes
    times: bytes


class Points:
    """Decoded points: parallel arrays of steps, values and timestamps.

    Timestamps come as float seconds (:attr:`times`, what charts and JSON use) or as int64
    nanoseconds since the epoch (:attr:`nanos`, exact to the microsecond they were stored with, what a
    DataFrame's datetime column takes without a copy). Decoding makes ``nanos``; points built from
    float times (downsampled curves, live charts) have ``times``; the other is derived on first use.
    """

    __slots__ = ("_nanos", "_times", "steps", "values")

    def __init__(
        self,
        steps: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
        times: npt.NDArray[np.float64] | None = None,
        *,
        nanos: npt.NDArray[np.int64] | None = None,
    ) -> None:
        if times is None and nanos is None:
            raise TypeError("Points needs times (float seconds) or nanos (int64 nanoseconds)")
        self.steps = steps
        self.values = values
        self._times = times
        self._nanos = nanos

    @property
    def times(self) -> npt.NDArray[np.float64]:
        """Timestamps as float seconds since the epoch."""
        if self._times is None:
            assert self._nanos is not None
            # microseconds / 1e6, as before nanoseconds (nanos / 1e9 would round twice: > 2**53)
            self._times = (self._nanos // 1000) / 1e6
        return self._times

    @property
    def nanos(self) -> npt.NDArray[np.int64]:
        """Timestamps as int64 nanoseconds since the epoch."""
        if self._nanos is None:
            assert self._times is not None
            self._nanos = np.rint(self._times * 1e6).astype(np.int64) * 1000
        return self._nanos

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"<Points: {len(self)}>"


# -- encoding --------------------------------------------------------------------------------------
def _deltas(a: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``a[0]``, then each element minus the one before (wrapping, like the cumsum that undoes it)."""
    d = np.empty_like(a)
    if len(a):
        d[0] = a[0]
        np.subtract(a[1:], a[:-1], out=d[1:])
    return d


def _narrow(a: npt.NDArray[np.int64]) -> bytes:
    """NARROW_DELTAS bytes of ``a`` (zlib'd deltas after the 9-byte head)."""
    d = _deltas(a)[1:]
    width = 8
    if len(d):
        lo, hi = int(d.min()), int(d.max())
        for w in (1, 2, 4):
            bound = 1 << (8 * w - 1)
            if -bound <= lo and hi < bound:
                width = w
                break
    body = d.astype(f"<i{width}").tobytes()
    return _HEAD.pack(int(a[0]), width) + zlib.compress(body, _ZLEVEL)


def _planes(v: npt.NDArray[np.float64]) -> bytes | None:
    """VALUE_PLANES bytes of ``v``, or None when no byte plane compresses (store the values raw)."""
    planes = np.ascontiguousarray(v.astype("<f8", copy=False).view(np.uint8).reshape(-1, 8).T)
    mask = 0
    parts: list[bytes] = []
    for i in range(8):
        raw = planes[i].tobytes()
        packed = zlib.compress(raw, _ZLEVEL)
        if _LENGTH.size + len(packed) < _KEEP_RAW * len(raw):
            mask |= 1 << i
            parts += [_LENGTH.pack(len(packed)), packed]
        else:
            parts.append(raw)
    return bytes([mask]) + b"".join(parts) if mask else None


def encode(steps: npt.ArrayLike, values: npt.ArrayLike, times: npt.ArrayLike) -> EncodedChunk:
    """Pack parallel sequences of points into one chunk."""
    s = np.asarray(steps, dtype=np.int64)
    v = np.asarray(values, dtype="<f8")
    t = np.rint(np.asarray(times, dtype=np.float64) * 1e6).astype(np.int64)
    if len(s) < SMALL_CHUNK:
        steps_b = _deltas(s).astype("<i8", copy=False).tobytes()
        return EncodedChunk(len(s), 0, steps_b, v.tobytes(), _deltas(t).astype("<i8", copy=False).tobytes())
    encoding = DELTA_ZLIB | NARROW_DELTAS
    values_b = _planes(v)
    if values_b is None:
        values_b = v.tobytes()
    else:
        encoding |= VALUE_PLANES
    return EncodedChunk(len(s), encoding, _narrow(s), values_b, _narrow(t))


# -- decoding --------------------------------------------------------------------------------------
def _undelta_into(blob: bytes, count: int, encoding: int, out: npt.NDArray[np.int64]) -> None:
    """Decode steps or times (``count`` of them) into ``out``."""
    if count == 0:
        return
    view = memoryview(blob)
    compressed = bool(encoding & DELTA_ZLIB)
    if encoding & NARROW_DELTAS:
        first, width = _HEAD.unpack_from(view)
        body = view[_HEAD.size :]
        size = width * (count - 1)  # zlib's output buffer made the right size at once
        d = np.frombuffer(
            zlib.decompress(body, bufsize=size or 1) if compressed else body, f"<i{width}", count - 1
        )
        out[0] = first
        if count > 1:
            np.cumsum(d, dtype=np.int64, out=out[1:])
            out[1:] += first
    else:
        d = np.frombuffer(zlib.decompress(view, bufsize=8 * count) if compressed else view, "<i8", count)
        np.cumsum(d, dtype=np.int64, out=out)


def _values_into(blob: bytes, count: int, encoding: int, out: npt.NDArray[np.uint8]) -> None:
    """Decode ``count`` values into ``out``, their little-endian bytes as a (count, 8) uint8 array."""
    view = memoryview(blob)
    if encoding & VALUE_PLANES:
        mask, pos = view[0], 1
        for i in range(8):
            if mask >> i & 1:
                (length,) = _LENGTH.unpack_from(view, pos)
                pos += _LENGTH.size
                plane = zlib.decompress(view[pos : pos + length], bufsize=count)
                out[:, i] = np.frombuffer(plane, np.uint8, count)
                pos += length
            else:
                out[:, i] = np.frombuffer(view, np.uint8, count, pos)
                pos += count
    elif encoding & VALUES_SHUFFLED:
        planes = np.frombuffer(zlib.decompress(view, bufsize=8 * count), np.uint8, 8 * count)
        planes = planes.reshape(8, count)
        for i in range(8):  # a row at a time: much faster than numpy's general transposing copy
            out[:, i] = planes[i]
    else:
        out[:] = np.frombuffer(view, np.uint8, 8 * count).reshape(count, 8)


def decode_rows(rows: Iterable[Sequence[Any]]) -> Points:
    """Decode chunk rows ``(count, encoding, steps, values, times)``, in order, into one set of arrays."""
    rows = list(rows)
    total = sum(int(row[0]) for row in rows)
    steps = np.empty(total, np.int64)
    stamps = np.empty(total, np.int64)  # microseconds as decoded, nanoseconds once scaled below
    values = np.empty(total, "<f8")
    value_bytes = values.view(np.uint8).reshape(total, 8)
    start = 0
    for count_, encoding_, s, v, t in rows:
        count, encoding = int(count_), int(encoding_)
        if encoding & ~KNOWN:
            raise StoreError(
                f"a metric chunk uses an encoding this nbtrack cannot read (flags {encoding:#x}): "
                "upgrade nbtrack with `pip install -U nbtrack`"
            )
        end = start + count
        try:
            _undelta_into(s, count, encoding, steps[start:end])
            _undelta_into(t, count, encoding, stamps[start:end])
            _values_into(v, count, encoding, value_bytes[start:end])
        except (zlib.error, ValueError, struct.error) as exc:
            raise StoreError(f"a metric chunk of {count} points is damaged: {exc}") from exc
        start = end
    stamps *= 1000  # in place: a fresh array costs its page faults again (~1 ms per 100,000 points)
    return Points(steps, values.astype(np.float64, copy=False), nanos=stamps)


def decode(count: int, encoding: int, steps: bytes, values: bytes, times: bytes) -> Points:
    """Unpack one chunk into arrays."""
    return decode_rows([(count, encoding, steps, values, times)])


def concat(parts: Sequence[Points]) -> Points:
    """Join decoded chunks in order."""
    if not parts:
        return Points(np.empty(0, np.int64), np.empty(0, np.float64), nanos=np.empty(0, np.int64))
    if len(parts) == 1:
        return parts[0]
    return Points(
        np.concatenate([p.steps for p in parts]),
        np.concatenate([p.values for p in parts]),
        nanos=np.concatenate([p.nanos for p in parts]),
    )
