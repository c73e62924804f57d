"""dvclive (``Live(dir="store/dvclive")``), as users write it: ``log_metric`` per key, ``next_step()``.

dvclive writes its files at every ``next_step()``; ``end()`` writes the summary.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from dvclive import Live
from workload import PARAMS, chunks, disk_bytes, rows10, timed_runs, values

IMPORT = "dvclive"
NOTEBOOK = {  # workload (h), run in a real kernel by cells.py (see there)
    "load": "from dvclive import Live",
    "track": "{cell}with Live() as live:\n    live.log_params({params})\n    live.log_metric('s', s)\n",
}
STORE = Path.cwd() / "store"
STORE.mkdir(exist_ok=True)


def live() -> Live:
    return Live(dir=str(STORE / "dvclive"), save_dvc_exp=False, report=None)


def log_points(n: int, keys: int, budget_s: float) -> dict[str, Any]:
    """(a)/(b): ``log_metric`` per key, then ``next_step()``, per step; then ``end()``."""
    data: Any = values(n) if keys == 1 else rows10(n)
    with live() as warm:  # creates the folder: not counted on disk
        warm.log_metric("loss", 0.5)
    before = disk_bytes(STORE)
    done = 0
    t0 = time.perf_counter()
    with live() as run:
        log_metric, next_step = run.log_metric, run.next_step
        if keys == 1:
            for lo, hi in chunks(n, budget_s):
                for i in range(lo, hi):
                    log_metric("loss", data[i])
                    next_step()
                done = hi
        else:
            for lo, hi in chunks(n, budget_s):
                for i in range(lo, hi):
                    for key, value in data[i].items():
                        log_metric(key, value)
                    next_step()
                done = hi
        loop_s = time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    return {
        "steps": done,
        "seconds": seconds,
        "loop_s": loop_s,
        "bytes": disk_bytes(STORE) - before,
        "run": "",
    }


def one_run() -> None:
    with live() as run:
        run.log_params(PARAMS)
        run.log_metric("loss", 0.5)


def run_params(count: int, budget_s: float) -> dict[str, Any]:
    """(c): ``Live()``, ``log_params`` (10), one metric, ``end()``."""
    return timed_runs(one_run, count, budget_s)
