"""exptrack's Python API (``exptrack.core.Experiment``), its SQLite store in ``store/.exptrack/``.

exptrack finds its project root by walking up from the working directory to ``.git`` or
``.exptrack``, so the child works inside ``store/``. ``log_metric`` inserts and commits in a
coalescing window; ``finish()`` flushes what is left.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from workload import PARAMS, chunks, cold_warm, disk_bytes, rows10, timed_runs, values

IMPORT = "exptrack"
NOTEBOOK = {  # workload (h), run in a real kernel by cells.py (see there): every cell is tracked
    "load": "%load_ext exptrack",
    "track": "{cell}%exp_log s\n",
}
STORE = Path.cwd() / "store"
(STORE / ".exptrack").mkdir(parents=True, exist_ok=True)
os.chdir(STORE)

from exptrack.core import Experiment  # noqa: E402  (inside the project folder)


def log_points(n: int, keys: int, budget_s: float) -> dict[str, Any]:
    """(a)/(b): ``exp.log_metric`` (one key) or ``log_metrics`` (ten) per step, then finish."""
    data: Any = values(n) if keys == 1 else rows10(n)
    with Experiment(name="warm-up") as warm:  # creates the database: not counted on disk
        warm.log_metric("loss", 0.5, step=0)
    before = disk_bytes(STORE)
    done = 0
    exp = Experiment(name="points")
    t0 = time.perf_counter()
    with exp:
        if keys == 1:
            log_metric = exp.log_metric
            for lo, hi in chunks(n, budget_s):
                for i in range(lo, hi):
                    log_metric("loss", data[i], step=i)
                done = hi
        else:
            log_metrics = exp.log_metrics
            for lo, hi in chunks(n, budget_s):
                for i in range(lo, hi):
                    log_metrics(data[i], step=i)
                done = hi
        loop_s = time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    return {
        "steps": done,
        "seconds": seconds,
        "loop_s": loop_s,
        "bytes": disk_bytes(STORE) - before,
        "run": exp.id,
    }


def one_run() -> None:
    with Experiment(params=PARAMS) as exp:
        exp.log_metric("loss", 0.5)


def run_params(count: int, budget_s: float) -> dict[str, Any]:
    """(c): ``with Experiment(params=10 params)``, one metric."""
    return timed_runs(one_run, count, budget_s)


def runs_frame(warm: int) -> dict[str, Any]:
    """(d): no public API; its internal ``core.queries.list_experiments`` into a DataFrame."""
    import pandas as pd
    from exptrack.core.db import get_db
    from exptrack.core.queries import list_experiments

    return cold_warm(lambda: pd.DataFrame(list_experiments(get_db(), limit=1_000_000)), warm)
