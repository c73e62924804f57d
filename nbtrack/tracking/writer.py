"""The background writer: one per process, batching logged points and run changes into the store.

``log()`` appends to its run's buffers (:mod:`nbtrack.tracking.buffers`); this thread takes them at
least every ``flush_interval`` seconds (sooner under pressure), packs each key's new points into one
chunk row, updates per-key summaries, and commits a whole flush in one transaction. Run end and
interpreter exit flush synchronously. Memory stays bounded: past ``max_buffered_points`` of a key, a
healthy writer makes ``log()`` wait; a failing store (disk full, server gone) instead drops that run's
oldest points — counted and reported — so the user's loop never hangs.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from typing import Any

from nbtrack.errors import NbtrackWarning, StoreError
from nbtrack.store.store import Store
from nbtrack.store.writes import Batch, release_reserved_seqs, write_batch
from nbtrack.tracking.buffers import Columns, RunSink

Op = tuple[RunSink, str, Any]
_log = logging.getLogger("nbtrack")


class Writer:
    """Drains run buffers and run operations into their stores, off the caller's thread."""

    def __init__(
        self,
        flush_interval: float = 0.5,
        heartbeat_interval: float = 10.0,
        max_buffered_points: int = 200_000,
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
        self.ops: collections.deque[Op] = collections.deque()
        self._pending_ops: list[Op] = []
        self._sinks: list[RunSink] = []
        self._reserving: set[Store] = set()  # stores this writer reserved run numbers in
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._wake_pending = False
        self._drained = threading.Event()
        self._thread: threading.Thread | None = None
        self._closing = False
        self._last_heartbeat = time.monotonic()
        self.failing: StoreError | None = None
        self._warned = False

    # -- caller side ---------------------------------------------------------------------------
    def register(self, sink: RunSink) -> None:
        """Take a new run's buffers into account, and start the thread if it is not running."""
        # numpy is imported here, on the caller's thread, never by the writer thread: two threads
        # importing numpy at once can see it half-initialised (its modules import each other).
        import nbtrack.tracking.packing  # noqa: F401

        self._sinks.append(sink)
        if self._thread is None or not self._thread.is_alive():
            self._closing = False
            self._thread = threading.Thread(target=self._loop, name="nbtrack-writer", daemon=True)
            self._thread.start()

    def submit(self, sink: RunSink, kind: str, payload: Any) -> None:
        """Queue a run operation (params, tags, notes, artifacts, end) for the next flush."""
        self.ops.append((sink, kind, payload))

    def on_pressure(self, sink: RunSink, column: list[float]) -> None:
        """Called by log() when a key's buffer is long: wake the writer; wait while it is full.

        A failing store never makes the caller wait: the writer then drops the oldest points instead.
        """
        if not self._wake_pending:  # one wake-up per flush, not one per logged point
            self._wake_pending = True
            self._wake.set()
        while len(column) >= self.max_buffered:
            if self.failing is not None or self._thread is None or not self._thread.is_alive():
                with self._flush_lock:  # dropping must not interleave with a flush's deletions
                    sink.drop_oldest(self.max_buffered * 3 // 4)
                return
            self._drained.clear()
            self._wake.set()
            self._drained.wait(0.05)

    def exclusive(self) -> threading.Lock:
        """The lock a flush holds: hold it to write to the store without racing this writer."""
        return self._flush_lock

    def wake(self) -> None:
        """Ask the writer thread to flush now rather than at its next interval."""
        self._wake.set()

    def wait_created(self, sink: RunSink) -> int:
        """The seq of a run started in the background, writing its row now if the writer has not yet.

        The flush runs on the calling thread (after any flush in progress) rather than waiting for the
        writer thread's turn; a failure is the store's answer for this run too (StoreError).
        """
        if not sink.created.is_set():
            self._flush(raise_errors=True)
        if sink.seq is None:  # pragma: no cover - a successful flush creates every queued run
            raise StoreError(f"run {sink.run_id} is not in the store yet")
        return sink.seq

    def flush(self) -> None:
        """Write everything logged so far, now, on the calling thread; raise StoreError on failure."""
        self._flush(raise_errors=True)

    def close(self) -> None:
        """Flush and stop the thread (interpreter exit); a failure becomes one warning."""
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
        for store in self._reserving:
            # on failure the number is skipped: harmless, run numbers only need to be unique
            with contextlib.suppress(StoreError):
                release_reserved_seqs(store)

    # -- writer thread -------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._closing:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._closing:
                break
            self._flush(raise_errors=False)

    def for_comparison(
        self, besides: RunSink, key: str | None = None
    ) -> list[tuple[RunSink, dict[str, Any], str]]:
        """Prepare a comparison of ``besides`` with the other runs: what it must add to the store's.

        Other runs with pending data are written now, unless none of their data is in the store yet
        and their number is known (reserved): those are returned as ``(sink, run columns,
        experiment)``, their points all still buffered, for the comparison to read from memory.
        ``besides``'s own data, and other runs' late context or notes, are left to the writer thread.
        With ``key``, only pending points of that metric count: a run whose unsaved points are all of
        other metrics cannot change the comparison, so nothing is written for it on the caller's thread.
        """

        def has_points(sink: RunSink) -> bool:
            if key is None:
                return any(cols[2] for cols in list(sink.buffers.values()))
            cols = sink.buffers.get(key)
            return cols is not None and bool(cols[2])

        with self._flush_lock:
            unsaved: list[tuple[RunSink, dict[str, Any], str]] = []
            needs_flush = False
            for sink, kind, payload in (*self._pending_ops, *self.ops):
                if kind == "create" and sink is not besides:
                    if sink.seq is not None:
                        unsaved.append((sink, *payload))
                    elif key is None or has_points(sink):
                        needs_flush = True  # its number comes with its row
            if not needs_flush:
                needs_flush = any(
                    has_points(sink)
                    for sink in list(self._sinks)
                    if sink is not besides and sink.created.is_set()
                )
            if needs_flush:
                self._flush_locked(raise_errors=True)
                return []
            return unsaved

    def _flush(self, raise_errors: bool) -> None:
        with self._flush_lock:
            self._flush_locked(raise_errors)

    def _flush_locked(self, raise_errors: bool) -> None:
        ops = self._pending_ops + _drain(self.ops)
        self._pending_ops = []
        heartbeat = time.monotonic() - self._last_heartbeat >= self.heartbeat_interval
        sinks = list(dict.fromkeys([*self._sinks, *(op[0] for op in ops)]))
        failed: StoreError | None = None
        for store in dict.fromkeys(s.store for s in sinks):
            mine = [s for s in sinks if s.store is store]
            store_ops = [op for op in ops if op[0].store is store]
            try:
                self._write(store, mine, store_ops, heartbeat)
            except StoreError as exc:
                failed = exc
                self._pending_ops.extend(store_ops)
        self._drained.set()
        self._wake_pending = False
        if heartbeat:
            self._last_heartbeat = time.monotonic()
        self._sinks = [s for s in self._sinks if s.active]
        self._after_flush(failed, raise_errors)

    def _write(self, store: Store, sinks: list[RunSink], ops: list[Op], heartbeat: bool) -> None:
        from nbtrack.tracking.packing import pack  # already imported by register()

        batch = Batch()
        commits: list[Callable[[], None]] = []
        taken: list[tuple[RunSink, dict[str, Columns]]] = []
        # A run started in the background is created by this batch if its "create" op is in it (its
        # other ops come after it, in order); points of a run created by no batch yet wait.
        creating = [sink for sink, kind, _ in ops if kind == "create"]
        for sink in sinks:
            if not sink.created.is_set() and sink not in creating:
                continue
            points = sink.peek()
            if points:
                taken.append((sink, points))
                commits.append(pack(sink, points, batch))
        ended = []
        for sink, kind, payload in ops:
            if kind == "create":
                batch.creates.append(payload)
            elif kind == "end":
                batch.ends.append(payload)
                ended.append(sink)
            elif kind == "blobs":
                batch.artifacts.extend(_store_blobs(store, sink.run_id, payload))
            else:
                getattr(batch, kind).extend(payload)
        if heartbeat:
            batch.heartbeats = [s.run_id for s in sinks if s.active]
        if not batch:
            return
        if creating:  # runs started in the background next know their numbers at once
            batch.reserve = store.reserved_seqs.wanted(len(creating))  # (nbtrack.store.reservation)
            self._reserving.add(store)
        write_batch(store, batch)  # on failure the points stay buffered, to be retried
        for sink, (seq, experiment_id) in zip(creating, batch.created, strict=True):
            sink.seq, sink.experiment_id = seq, experiment_id  # seq differs from a reserved one if taken
            sink.created.set()
        for commit in commits:
            commit()
        for sink, points in taken:
            sink.consume(points)
        for sink in ended:
            sink.active = False

    def _after_flush(self, failed: StoreError | None, raise_errors: bool) -> None:
        if failed is None:
            self.failing, self._warned = None, False
            return
        self.failing = failed
        for sink in self._sinks:
            sink.drop_oldest(self.max_buffered)
        if raise_errors:
            raise failed
        if not self._warned:
            # A log record, not warnings.warn: this runs on the writer thread, where a warnings
            # filter set to "error" would otherwise kill the thread.
            self._warned = True
            _log.warning("nbtrack: logged data is kept in memory and retried: %s", failed)


def _store_blobs(store: Store, run_id: str, blobs: list[tuple[str, bytes, str]]) -> list[dict[str, Any]]:
    """Write queued artifact contents (on the writer thread) and return their artifact rows."""
    rows = []
    for name, data, mime in blobs:
        try:
            blob = store.artifacts.put_bytes(data)
        except OSError as exc:
            raise StoreError(f"cannot write artifact {name!r} under {store.artifacts_root}: {exc}") from exc
        rows.append(
            {
                "run_id": run_id,
                "name": name,
                "mime": mime,
                "size": blob.size,
                "sha256": blob.sha256,
                "uri": blob.uri,
                "created": time.time(),
            }
        )
    return rows


def _drain(queue: collections.deque[Any]) -> list[Any]:
    pop = queue.popleft
    return [pop() for _ in range(len(queue))]
