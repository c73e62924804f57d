"""The naive-limit references, measured in the same run as the peers (plain ``sqlite3``, no tracker).

- ``executemany``: the same points as workload (a), one row per point ``(run_id, key, step, value,
  timestamp)`` with ``PRIMARY KEY(run_id, key, step)``, inserted by one ``executemany`` into a fresh
  WAL database with nbtrack's own ``synchronous=NORMAL`` and committed; rows built before timing.
- ``commit``: one small ``INSERT`` + ``COMMIT``, durable (``synchronous=FULL``, WAL), median.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from pathlib import Path
from typing import Any

from workload import disk_bytes, values

RUN_ID = "019ab0c1d2e34f5a6b7c8d9e0f1a2b3c"  # 32 characters, like nbtrack's run ids


def wal_db(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


def executemany(n: int) -> dict[str, Any]:
    """µs per row and bytes per row of a row-per-point ``executemany`` of ``n`` points."""
    data = values(n)
    now = time.time()
    rows = [(RUN_ID, "loss", i, data[i], now + i * 1e-6) for i in range(n)]
    folder = Path.cwd() / "store"
    folder.mkdir(exist_ok=True)
    conn = wal_db(folder / "raw.db", "NORMAL")
    conn.execute(
        "CREATE TABLE points (run_id TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL, "
        "value REAL NOT NULL, timestamp REAL NOT NULL, PRIMARY KEY (run_id, key, step))"
    )
    before = disk_bytes(folder)
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO points VALUES (?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - t0
    conn.close()
    return {"row_us": seconds / n * 1e6, "bytes_per_row": (disk_bytes(folder) - before) / n}


def commit(count: int) -> dict[str, Any]:
    """Milliseconds of one durable ``INSERT`` + ``COMMIT`` (median of ``count`` after 20 warm-ups)."""
    conn = wal_db(Path.cwd() / "commit.db", "FULL")
    conn.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, seq INTEGER, start_time REAL)")
    times = []
    for i in range(count + 20):
        t0 = time.perf_counter()
        conn.execute("BEGIN")
        conn.execute("INSERT INTO runs VALUES (?, ?, ?)", (f"{i:032x}", i, time.time()))
        conn.execute("COMMIT")
        times.append(time.perf_counter() - t0)
    conn.close()
    return {"ms": statistics.median(times[20:]) * 1e3}
