"""Per-run point buffers: what ``log()`` appends to, and what the writer reads at each flush.

Points are kept column-wise per key (steps, values, timestamps as plain lists) so that logging is a
few list appends and a flush turns each column into a numpy array in one C-speed call — no
per-point Python work on either side, and no lock on the logging path:

- ``log()`` only appends, always in the order steps, values, timestamps;
- the writer reads ``n = len(timestamps)`` first, so the first ``n`` entries of all three columns are
  complete, copies that prefix, and deletes it only after the flush committed.

Appending to and deleting a prefix of a list are each atomic in CPython, so a concurrent ``log()``
never loses or splits a point; a failed flush simply leaves the prefix in place to be retried.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nbtrack.store.store import Store

#: steps (int, or None = "next step of this key"), values (float), timestamps (float seconds)
Columns = tuple[list[Any], list[float], list[float]]
#: told of each key's points once they are written: (key, steps, values, times) as numpy arrays
Watcher = Callable[[str, Any, Any, Any], None]


@dataclass(eq=False)
class RunSink:
    """One run's buffered points and the writer-side state needed to continue its series."""

    store: Store
    run_id: str
    buffers: dict[str, Columns] = field(default_factory=dict)
    next_step: dict[str, int] = field(default_factory=dict)
    next_chunk: dict[str, int] = field(default_factory=dict)
    # key -> [last, last_step, min, max, count, last_time]; min/max ignore NaN (None if all NaN)
    summary: dict[str, list[Any]] = field(default_factory=dict)
    active: bool = True
    dropped: int = 0
    seq: int | None = None  # the run's number, once its row exists in the store
    experiment_id: int | None = None  # likewise, the id of its experiment
    created: threading.Event = field(default_factory=threading.Event)
    # live views of this run, called on the writer's thread after each write (keep them quick)
    watchers: list[Watcher] = field(default_factory=list)

    def columns_for(self, key: str) -> Columns:
        """The buffers of ``key``, created on its first point."""
        return self.buffers.setdefault(key, ([], [], []))

    def buffered(self) -> int:
        """Points waiting to be written, over all keys."""
        return sum(len(cols[2]) for cols in list(self.buffers.values()))

    def peek(self) -> dict[str, Columns]:
        """A copy of every complete buffered point, oldest first (the buffers are left as they are)."""
        taken: dict[str, Columns] = {}
        for key, (steps, values, times) in list(self.buffers.items()):
            n = len(times)  # read first: steps and values already hold these n points
            if n:
                taken[key] = (steps[:n], values[:n], times[:n])
        return taken

    def last_buffered(self, key: str) -> tuple[bool, float | None]:
        """(whether ``key`` has a buffered point, its latest value); NaN is None, as in the store."""
        cols = self.buffers.get(key)
        n = len(cols[2]) if cols is not None else 0
        if not n:
            return False, None
        value = float(cols[1][n - 1])  # type: ignore[index]
        return True, (None if value != value else value)

    def consume(self, taken: dict[str, Columns]) -> None:
        """Forget the points of ``taken`` (a :meth:`peek` whose write committed)."""
        for key, (_steps, _values, times) in taken.items():
            cols = self.buffers[key]
            n = len(times)
            for col in cols:
                del col[:n]

    def drop_oldest(self, limit: int) -> None:
        """Keep at most ``limit`` points per key, dropping the oldest (under the writer's flush lock)."""
        for cols in list(self.buffers.values()):
            excess = len(cols[2]) - limit
            if excess > 0:
                for col in cols:
                    del col[:excess]
                self.dropped += excess
