"""What every peer's child process shares: the input data, the timed loop's chunks, disk size.

Imported by the ``peer_*.py`` modules inside each peer's own virtualenv, so it uses the standard
library only.
"""

from __future__ import annotations

import math
import os
import random
import sqlite3
import statistics
import time
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

KEYS10 = [f"m{k}" for k in range(10)]

# The ten parameters of workload (c): mixed types, as a training cell would have them.
PARAMS: dict[str, object] = {
    "lr": 0.01,
    "batch_size": 32,
    "optimizer": "adam",
    "shuffle": True,
    "seed": 7,
    "momentum": 0.9,
    "epochs": 3,
    "model": "resnet18-small",
    "dropout": 0.1,
    "weight_decay": 0.0005,
}


def loss_curve(n: int) -> array[float]:
    """The noisy loss curve of bench/core.py (same seed, same values): decay, noise, rare spikes."""
    rng = random.Random(42)
    out = array("d", bytes(8 * n))
    for i in range(n):
        base = 0.08 + 2.2 * math.exp(-i / (n / 6))
        spike = 1.5 if rng.random() < 1e-4 else 1.0
        out[i] = base * spike * (1.0 + 0.05 * rng.gauss(0.0, 1.0))
    return out


def values(n: int) -> list[float]:
    """``n`` points of the loss curve of bench/core.py, as a list (fast indexing in the loop)."""
    return list(loss_curve(n))


def rows10(n: int) -> list[dict[str, float]]:
    """``n`` steps of ten keys each (workload b); built before timing starts."""
    curve = loss_curve(n)
    return [{key: curve[i] * (1 + k / 10) for k, key in enumerate(KEYS10)} for i in range(n)]


def chunks(n: int, budget_s: float, size: int = 1000) -> Iterator[tuple[int, int]]:
    """Ranges ``[lo, hi)`` covering ``range(n)``, stopping early once ``budget_s`` has passed.

    The deadline is checked between chunks only, so the per-point loop stays a plain ``for``.
    """
    deadline = time.perf_counter() + budget_s
    for lo in range(0, n, size):
        yield lo, min(n, lo + size)
        if time.perf_counter() > deadline:
            return


def checkpoint_sqlite(folder: Path) -> None:
    """Fold every SQLite ``-wal`` file under ``folder`` into its database (best effort)."""
    for wal in folder.rglob("*-wal"):
        db = wal.with_name(wal.name[: -len("-wal")])
        if db.exists():
            conn = sqlite3.connect(db)
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass  # a peer still holding a lock: count the -wal file as it is
            finally:
                conn.close()


def disk_bytes(folder: Path) -> int:
    """Apparent size of every file under ``folder``, after SQLite WAL checkpoints."""
    checkpoint_sqlite(folder)
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                total += os.path.getsize(path)
    return total


def timed_runs(one_run: Callable[[], object], count: int, budget_s: float) -> dict[str, Any]:
    """Median ms of ``one_run()`` over up to ``count`` calls (at least 5, else within the budget).

    Three warm-up calls first, so a first-run cost (creating the store, starting a service) is
    left out: workload (c) is the cost of one more run in a session.
    """
    for _ in range(3):
        one_run()
    deadline = time.perf_counter() + budget_s
    times: list[float] = []
    while len(times) < count and (len(times) < 5 or time.perf_counter() < deadline):
        t0 = time.perf_counter()
        one_run()
        times.append(time.perf_counter() - t0)
    return {"ms": statistics.median(times) * 1e3, "runs": len(times)}


def cold_warm(call: Callable[[], Any], warm: int) -> dict[str, Any]:
    """Seconds of the first ``call()`` in this process, the median of ``warm`` more, and its rows."""
    times = []
    for _ in range(1 + warm):
        t0 = time.perf_counter()
        frame = call()
        times.append(time.perf_counter() - t0)
    return {"cold_s": times[0], "warm_s": statistics.median(times[1:]), "rows": len(frame)}


def make_runs(one_run: Callable[[], object], n: int) -> dict[str, Any]:
    """(d) setup: ``n`` runs of 10 params and 1 metric, made by a peer's ``one_run``; the seconds it took."""
    t0 = time.perf_counter()
    for _ in range(n):
        one_run()
    return {"runs": n, "seconds": time.perf_counter() - t0}
