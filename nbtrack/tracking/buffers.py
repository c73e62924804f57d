"""Per-run point buffers: what ``log()`` appends to, and what the writer takes at each flush.

Points are kept column-wise per key (steps, values, timestamps as plain lists) so that logging is a
few list appends and a flush turns each column into a numpy array in one C-speed call — no
per-point Python work on either side. A lock per run makes a flush's swap of the buffers atomic with
respect to a ``log()`` call, so a call's points are never split or lost.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from nbtrack.store.store import Store

#: steps (int, or None = "next step of this key"), values (float), timestamps (float seconds)
Columns = tuple[list[Any], list[float], list[float]]


@dataclass(eq=False)
class RunSink:
    """One run's buffered points and the writer-side state needed to continue its series."""

    store: Store
    run_id: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    buffers: dict[str, Columns] = field(default_factory=dict)
    buffered: int = 0
    next_step: dict[str, int] = field(default_factory=dict)
    next_chunk: dict[str, int] = field(default_factory=dict)
    # key -> [last, last_step, min, max, count, last_time]; min/max ignore NaN (None if all NaN)
    summary: dict[str, list[Any]] = field(default_factory=dict)
    active: bool = True
    dropped: int = 0

    def take(self) -> dict[str, Columns]:
        """Hand over every buffered point and start empty buffers."""
        with self.lock:
            taken, self.buffers = self.buffers, {}
            self.buffered = 0
        return taken

    def give_back(self, taken: dict[str, Columns]) -> None:
        """Put points back in front of newer ones after a failed write, so they are retried in order."""
        with self.lock:
            for key, (steps, values, times) in taken.items():
                newer = self.buffers.get(key)
                if newer is not None:
                    steps.extend(newer[0])
                    values.extend(newer[1])
                    times.extend(newer[2])
                self.buffers[key] = (steps, values, times)
            self.buffered = sum(len(cols[0]) for cols in self.buffers.values())

    def drop_oldest(self, limit: int) -> None:
        """Keep at most ``limit`` buffered points, dropping the oldest (store failing: bounded memory)."""
        with self.lock:
            while self.buffered > limit and self.buffers:
                key = max(self.buffers, key=lambda k: len(self.buffers[k][0]))
                cols = self.buffers[key]
                excess = min(len(cols[0]), self.buffered - limit)
                for col in cols:
                    del col[:excess]
                self.buffered -= excess
                self.dropped += excess
