"""Turning a run's taken buffers into chunk rows and summary rows for one flush.

State that continues across flushes (next step per key, chunk numbers, running summaries) is updated
only through the returned ``commit`` callback, called after the flush's transaction succeeded — so a
failed write can be retried without gaps or double counting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from nbtrack.store import chunks
from nbtrack.store.writes import Batch
from nbtrack.tracking.buffers import Columns, RunSink

CHUNK_MAX_POINTS = 100_000


def pack(sink: RunSink, taken: dict[str, Columns], batch: Batch) -> Callable[[], None]:
    """Add ``taken`` points' chunk and summary rows to ``batch``; return the state-commit callback."""
    updates: list[tuple[str, int, int, list[Any]]] = []
    written: list[tuple[str, Any, Any, Any]] = []
    for key, (steps_list, values_list, times_list) in taken.items():
        if not steps_list:
            continue
        steps = _steps(steps_list, sink.next_step.get(key, 0))
        values = np.asarray(values_list, dtype=np.float64)
        times = np.asarray(times_list, dtype=np.float64)
        number = sink.next_chunk.get(key, 0)
        for start in range(0, len(steps), CHUNK_MAX_POINTS):
            end = start + CHUNK_MAX_POINTS
            encoded = chunks.encode(steps[start:end], values[start:end], times[start:end])
            batch.chunks.append((sink.run_id, key, number, encoded))
            number += 1
        summary = _summarise(sink.summary.get(key), steps, values, times)
        updates.append((key, int(steps[-1]) + 1, number, summary))
        if sink.watchers:
            written.append((key, steps, values, times))
        last, last_step, lo, hi, count, last_time = summary
        batch.summaries.append(
            {
                "run_id": sink.run_id,
                "key": key,
                "experiment_id": sink.experiment_id,  # None when this batch creates the run
                "last": None if last != last else last,  # NaN is stored as NULL (see schema)
                "last_step": last_step,
                "min": lo,
                "max": hi,
                "count": count,
                "last_time": last_time,
            }
        )

    def commit() -> None:
        for key, next_step, next_chunk, summary in updates:
            sink.next_step[key] = next_step
            sink.next_chunk[key] = next_chunk
            sink.summary[key] = summary
        for watcher in list(sink.watchers):
            for key, steps, values, times in written:
                watcher(key, steps, values, times)

    return commit


def _steps(steps: list[Any], first_default: int) -> npt.NDArray[np.int64]:
    """Steps as int64; a None means "one after the previous step of this key"."""
    try:
        return np.asarray(steps, dtype=np.int64)
    except TypeError:
        filled = []
        following = first_default
        for step in steps:
            current = following if step is None else step
            filled.append(current)
            following = current + 1
        return np.asarray(filled, dtype=np.int64)


def _summarise(
    prev: list[Any] | None,
    steps: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    times: npt.NDArray[np.float64],
) -> list[Any]:
    present = values[~np.isnan(values)]
    lo = float(present.min()) if len(present) else None
    hi = float(present.max()) if len(present) else None
    count = len(values)
    if prev is not None:
        count += prev[4]
        lo = prev[2] if lo is None else (lo if prev[2] is None else min(lo, prev[2]))
        hi = prev[3] if hi is None else (hi if prev[3] is None else max(hi, prev[3]))
    return [float(values[-1]), int(steps[-1]), lo, hi, count, float(times[-1])]
