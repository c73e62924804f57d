"""A metric's history as a DataFrame: exact steps, values and timestamps, built without copies."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nbtrack.query.history import history_frame
from nbtrack.store import chunks


def test_history_frame_has_the_stored_microseconds_as_utc_nanosecond_datetimes() -> None:
    micros = 1_763_900_000_123_456 + np.arange(0, 3_000, 3)  # one point every 3 us
    enc = chunks.encode(np.arange(1_000), np.linspace(0, 1, 1_000), micros / 1e6)
    points = chunks.decode(enc.count, enc.encoding, enc.steps, enc.values, enc.times)
    frame = history_frame(points)
    assert list(frame.columns) == ["step", "value", "timestamp"]
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2025-11-23 12:13:20.123456", tz="UTC")
    stamps = frame["timestamp"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    assert (stamps == micros * 1000).all()  # exactly what was stored, no float rounding
    assert frame["step"].tolist() == list(range(1_000))
    assert frame["value"].tolist() == np.linspace(0, 1, 1_000).tolist()


def test_history_frame_uses_the_decoded_arrays_without_copying_them() -> None:
    enc = chunks.encode(np.arange(100), np.ones(100), np.full(100, 1.7e9))
    points = chunks.decode(enc.count, enc.encoding, enc.steps, enc.values, enc.times)
    frame = history_frame(points)
    assert np.shares_memory(frame["step"].to_numpy(), points.steps)
    assert np.shares_memory(frame["value"].to_numpy(), points.values)
    assert np.shares_memory(frame["timestamp"].array._ndarray, points.nanos)


def test_history_frame_of_points_made_from_float_seconds() -> None:
    points = chunks.Points(np.arange(2), np.array([1.0, 2.0]), np.array([1.7e9, 1.7e9 + 0.5]))
    frame = history_frame(points)
    assert frame["timestamp"].tolist() == [
        pd.Timestamp(1.7e9, unit="s", tz="UTC"),
        pd.Timestamp(1.7e9 + 0.5, unit="s", tz="UTC"),
    ]
