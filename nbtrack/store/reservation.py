"""Run numbers taken from the store's counter ahead of time, so a run started in the background knows
its number at once, without store I/O on the caller's thread.

This is a sequence cache, as PostgreSQL's ``CREATE SEQUENCE ... CACHE``: a few numbers are taken in a
transaction that writes runs anyway, and those left at exit are given back when nobody took a later
number since. As with any sequence cache, two processes sharing a store may number their runs a little
out of start order, and a killed process skips the numbers it held; numbers are never reused. A forked
child never uses its parent's numbers (the reservation records the process id).
"""

from __future__ import annotations

import os
import threading
from collections import deque

BLOCK = 4
"""How many numbers a process holds at least; it takes more when fewer than half are left."""
MAX_BLOCK = 64
"""How many it holds at most: enough for the runs a burst of short cells starts between two flushes."""


class SeqReservation:
    """The run numbers this process holds for one store, lowest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._held: deque[int] = deque()
        self._target = BLOCK

    def _mine(self) -> deque[int]:
        if self._pid != os.getpid():  # a forked child: the numbers are the parent's
            self._pid, self._held = os.getpid(), deque()
        return self._held

    def take(self) -> int | None:
        """The lowest number held, now the caller's (None if none is held)."""
        with self._lock:
            held = self._mine()
            return held.popleft() if held else None

    def low(self) -> bool:
        """True when fewer than half the wanted numbers are left (time to take more)."""
        with self._lock:
            return len(self._mine()) < self._target // 2

    def wanted(self, creating: int) -> int:
        """How many numbers a transaction creating ``creating`` runs should take (0: enough held).

        The block grows with the pace: a transaction that creates many runs (short cells in a row)
        asks for twice as many, up to :data:`MAX_BLOCK`.
        """
        with self._lock:
            self._target = max(self._target, min(MAX_BLOCK, 2 * creating))
            held = len(self._mine())
            return self._target - held if held < self._target // 2 else 0

    def hold(self, numbers: range) -> None:
        """Keep ``numbers`` (taken from the counter in a committed transaction) for the next runs."""
        with self._lock:
            self._mine().extend(numbers)

    def release(self) -> range | None:
        """Give up every number held: the contiguous range if they are one (else None), to give back."""
        with self._lock:
            held, self._held, self._target = sorted(self._mine()), deque(), BLOCK
        if held and held == list(range(held[0], held[-1] + 1)):
            return range(held[0], held[-1] + 1)
        return None
