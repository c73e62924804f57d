"""The background writer: one per process, batching logged points and run changes into the store.

``log()`` only appends a tuple to a deque; this thread drains it at least every ``flush_interval``
seconds (and sooner under pressure), packs each key's new points into one chunk row, updates per-key
summaries, and commits everything of a flush in one transaction. Run end and interpreter exit flush
synchronously. Memory stays bounded: past ``max_buffered_points`` a healthy writer makes ``log()``
wait; a failing store (disk full, server gone) instead drops the oldest pending points, counted and
reported, so the user's loop never hangs.
"""

from __future__ import annotations

import collections
import itertools
import os
import threading
import time
import warnings
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbtrack.errors import NbtrackWarning, StoreError
from nbtrack.store import chunks
from nbtrack.store.store import Store
from nbtrack.store.writes import Batch, write_batch

CHUNK_MAX_POINTS = 100_000


@dataclass(eq=False)
class RunSink:
    """Writer-side state of one run: where its points go, step counters, chunk numbers, summaries."""

    store: Store
    run_id: str
    next_step: dict[str, int] = field(default_factory=dict)
    next_chunk: dict[str, int] = field(default_factory=dict)
    # key -> [last, last_step, min, max, count, last_time]; min/max ignore NaN (None if all NaN)
    summary: dict[str, list[Any]] = field(default_factory=dict)
    active: bool = True
    dropped: int = 0


Op = tuple[RunSink, str, Any]
Point = tuple[RunSink, "int | None", float, dict[str, float]]


class Writer:
    """Drains logged points and run operations into their stores, off the caller's thread."""

    def __init__(
        self,
        flush_interval: float = 0.5,
        heartbeat_interval: float = 10.0,
        max_buffered_points: int = 500_000,
    ) -> None:
        self.flush_interval = flush_interval
        self.heartbeat_interval = heartbeat_interval
        self.max_buffered = max(1000, max_buffered_points)
        self.wake_at = max(100, self.max_buffered // 4)
        self._reset_state()
        ref = weakref.ref(self)

        def reset_in_child() -> None:
            writer = ref()
            if writer is not None:
                writer._reset_state()

        os.register_at_fork(after_in_child=reset_in_child)

    def _reset_state(self) -> None:
        self.points: collections.deque[Point] = collections.deque()
        self.ops: collections.deque[Op] = collections.deque()
        self._pending_points: list[Point] = []
        self._pending_ops: list[Op] = []
        self._sinks: list[RunSink] = []
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._drained = threading.Event()
        self._thread: threading.Thread | None = None
        self._closing = False
        self._last_heartbeat = time.monotonic()
        self.failing: StoreError | None = None
        self._warned = False

    # -- caller side ---------------------------------------------------------------------------
    def register(self, sink: RunSink) -> None:
        """Start tracking a run's heartbeat, and the thread if it is not running yet."""
        self._sinks.append(sink)
        if self._thread is None or not self._thread.is_alive():
            self._closing = False
            self._thread = threading.Thread(target=self._loop, name="nbtrack-writer", daemon=True)
            self._thread.start()

    def submit(self, sink: RunSink, kind: str, payload: Any) -> None:
        """Queue a run operation (params, tags, note, artifact, end) for the next flush."""
        self.ops.append((sink, kind, payload))

    def on_pressure(self) -> None:
        """Called by log() when the queue is long: wake the writer; wait if it is full and healthy."""
        self._wake.set()
        while len(self.points) >= self.max_buffered:
            if self.failing is not None or self._thread is None or not self._thread.is_alive():
                self._drop_oldest()
                return
            self._drained.clear()
            self._wake.set()
            self._drained.wait(0.05)

    def _drop_oldest(self) -> None:
        excess = len(self.points) - self.max_buffered
        for _ in range(max(0, excess)):
            sink = self.points.popleft()[0]
            sink.dropped += 1

    def flush(self) -> None:
        """Write everything queued so far, now, on the calling thread; raise StoreError on failure."""
        self._flush(raise_errors=True)

    def close(self) -> None:
        """Flush and stop the thread (interpreter exit); failures become one warning."""
        self._closing = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        try:
            self._flush(raise_errors=True)
        except StoreError as exc:
            warnings.warn(
                f"nbtrack: could not save the last logged data: {exc}", NbtrackWarning, stacklevel=2
            )

    # -- writer thread -------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._closing:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._closing:
                break
            self._flush(raise_errors=False)

    def _flush(self, raise_errors: bool) -> None:
        with self._flush_lock:
            ops = self._pending_ops + _drain(self.ops)
            points = self._pending_points + _drain(self.points)
            self._pending_ops, self._pending_points = [], []
            self._drained.set()
            heartbeat = time.monotonic() - self._last_heartbeat >= self.heartbeat_interval
            stores = _stores_of(ops, points, self._sinks if heartbeat else [])
            failed: StoreError | None = None
            for store in stores:
                s_ops = [o for o in ops if o[0].store is store]
                s_points = [p for p in points if p[0].store is store]
                try:
                    self._write(store, s_ops, s_points, heartbeat)
                except StoreError as exc:
                    failed = exc
                    self._pending_ops.extend(s_ops)
                    self._pending_points.extend(s_points)
            if heartbeat:
                self._last_heartbeat = time.monotonic()
            self._sinks = [s for s in self._sinks if s.active]
            self._after_flush(failed, raise_errors)

    def _after_flush(self, failed: StoreError | None, raise_errors: bool) -> None:
        if failed is None:
            self.failing, self._warned = None, False
            return
        self.failing = failed
        overflow = len(self._pending_points) - self.max_buffered
        if overflow > 0:
            for point in self._pending_points[:overflow]:
                point[0].dropped += 1
            del self._pending_points[:overflow]
        if raise_errors:
            raise failed
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"nbtrack: logged data is kept in memory and retried: {failed}",
                NbtrackWarning,
                stacklevel=1,
            )

    def _write(self, store: Store, ops: list[Op], points: list[Point], heartbeat: bool) -> None:
        batch = Batch()
        commit = _pack_points(points, batch)
        ended: list[RunSink] = []
        for sink, kind, payload in ops:
            if kind == "end":
                batch.ends.append(payload)
                ended.append(sink)
            else:
                getattr(batch, kind).extend(payload)
        if heartbeat:
            batch.heartbeats = [s.run_id for s in self._sinks if s.store is store and s.active]
        if not batch:
            return
        write_batch(store, batch)
        commit()
        for sink in ended:
            sink.active = False


def _drain(queue: collections.deque[Any]) -> list[Any]:
    out = []
    pop = queue.popleft
    for _ in range(len(queue)):
        out.append(pop())
    return out


def _stores_of(ops: list[Op], points: list[Point], sinks: Iterable[RunSink]) -> list[Store]:
    seen: dict[int, Store] = {}
    for sink in itertools.chain((o[0] for o in ops), (p[0] for p in points), sinks):
        seen.setdefault(id(sink.store), sink.store)
    return list(seen.values())


def _pack_points(points: list[Point], batch: Batch) -> Any:
    """Group points per (run, key) into chunk rows and summaries; return the state commit callback."""
    groups: dict[tuple[RunSink, str], tuple[list[int], list[float], list[float]]] = {}
    steps_next: dict[tuple[RunSink, str], int] = {}
    for sink, step, ts, metrics in points:
        for key, value in metrics.items():
            gk = (sink, key)
            group = groups.get(gk)
            if group is None:
                group = groups[gk] = ([], [], [])
                steps_next[gk] = sink.next_step.get(key, 0)
            if step is None:
                s = steps_next[gk]
                steps_next[gk] = s + 1
            else:
                s = step
                steps_next[gk] = step + 1
            group[0].append(s)
            group[1].append(value)
            group[2].append(ts)
    new_summaries: list[tuple[RunSink, str, list[Any]]] = []
    new_chunks: dict[tuple[RunSink, str], int] = {}
    for (sink, key), (steps, values, times) in groups.items():
        number = sink.next_chunk.get(key, 0)
        for start in range(0, len(steps), CHUNK_MAX_POINTS):
            end = start + CHUNK_MAX_POINTS
            enc = chunks.encode(steps[start:end], values[start:end], times[start:end])
            batch.chunks.append((sink.run_id, key, number, enc))
            number += 1
        new_chunks[(sink, key)] = number
        summary = _summarise(sink.summary.get(key), steps, values, times)
        new_summaries.append((sink, key, summary))
        last, last_step, lo, hi, count, last_time = summary
        batch.summaries.append(
            {
                "run_id": sink.run_id,
                "key": key,
                "last": None if last != last else last,  # NaN is stored as NULL (see schema)
                "last_step": last_step,
                "min": lo,
                "max": hi,
                "count": count,
                "last_time": last_time,
            }
        )

    def commit() -> None:
        for (sink, key), n in new_chunks.items():
            sink.next_chunk[key] = n
        for (sink, key), n in steps_next.items():
            sink.next_step[key] = n
        for sink, key, summary in new_summaries:
            sink.summary[key] = summary

    return commit


def _summarise(
    prev: list[Any] | None, steps: list[int], values: list[float], times: list[float]
) -> list[Any]:
    arr = np.asarray(values, dtype=np.float64)
    finite_or_inf = arr[~np.isnan(arr)]
    lo = float(finite_or_inf.min()) if len(finite_or_inf) else None
    hi = float(finite_or_inf.max()) if len(finite_or_inf) else None
    count = len(values)
    if prev is not None:
        count += prev[4]
        lo = prev[2] if lo is None else (lo if prev[2] is None else min(lo, prev[2]))
        hi = prev[3] if hi is None else (hi if prev[3] is None else max(hi, prev[3]))
    return [float(values[-1]), int(steps[-1]), lo, hi, count, float(times[-1])]
