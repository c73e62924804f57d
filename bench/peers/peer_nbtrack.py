"""nbtrack's side of the shared workloads, through its public API only (run in nbtrack's .venv).

The store is ``./store/nbtrack.db`` of the child's working directory (``NBTRACK_STORE``, set here
before nbtrack is imported). ``with nbtrack.start_run() as run:`` ends by waiting until everything
logged is persisted, so the timed blocks below end with the data on disk.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from workload import PARAMS, chunks, cold_warm, disk_bytes, rows10, timed_runs, values

IMPORT = "nbtrack"
NOTEBOOK = {  # workload (h), run in a real kernel by cells.py (see there)
    "load": "%load_ext nbtrack",
    "track": "%%track -q\n{cell}",
    "env": {"NBTRACK_STORE": "{store}/nbtrack.db"},
}
STORE = Path.cwd() / "store"
STORE.mkdir(exist_ok=True)
os.environ["NBTRACK_STORE"] = str(STORE / "nbtrack.db")

import nbtrack  # noqa: E402  (after NBTRACK_STORE)


def log_points(n: int, keys: int, budget_s: float) -> dict[str, Any]:
    """(a)/(b): ``run.log`` per step until n steps (or the budget), then the end of the run."""
    data: Any = values(n) if keys == 1 else rows10(n)
    with nbtrack.start_run("warm-up") as run:  # creates the store: not counted on disk
        run.log(loss=0.5, step=0)
    before = disk_bytes(STORE)
    done = 0
    run = nbtrack.start_run("points")
    t0 = time.perf_counter()
    with run:
        log = run.log
        if keys == 1:
            for lo, hi in chunks(n, budget_s):
                for i in range(lo, hi):
                    log(loss=data[i], step=i)
                done = hi
        else:
            for lo, hi in chunks(n, budget_s):
                for i in range(lo, hi):
                    log(data[i], step=i)
                done = hi
        loop_s = time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    return {
        "steps": done,
        "seconds": seconds,
        "loop_s": loop_s,
        "bytes": disk_bytes(STORE) - before,
        "run": run.seq,
    }


def one_run() -> None:
    with nbtrack.start_run(params=PARAMS) as run:
        run.log(loss=0.5)


def run_params(count: int, budget_s: float) -> dict[str, Any]:
    """(c): a run with 10 params and 1 metric, start to end."""
    return timed_runs(one_run, count, budget_s)


def runs_frame(warm: int) -> dict[str, Any]:
    """(d): ``nbtrack.runs()``, the first call in this process (lazy imports included), then warm."""
    return cold_warm(nbtrack.runs, warm)


def fill_history(n: int) -> dict[str, Any]:
    """(e) setup when (a) was cut short: a run with ``n`` points of ``loss``."""
    result = log_points(n, 1, budget_s=1e9)
    return {"run": result["run"]}


def history(run: Any, warm: int) -> dict[str, Any]:
    """(e): ``nbtrack.get_run(seq).history("loss")`` as a DataFrame."""
    return cold_warm(lambda: nbtrack.get_run(run).history("loss"), warm)
