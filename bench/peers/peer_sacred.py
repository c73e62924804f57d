"""Sacred with its ``FileStorageObserver`` (``store/sacred/``), as users write it.

Sacred keeps ``log_scalar`` points in memory and hands them to the observer at each heartbeat
(every 10 s) and when the run completes, so the timed block ends when ``ex.run()`` returns.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sacred import SETTINGS, Experiment
from sacred.observers import FileStorageObserver
from workload import KEYS10, PARAMS, chunks, disk_bytes, rows10, timed_runs, values

IMPORT = "sacred"
NOTEBOOK = {  # workload (h), run in a real kernel by cells.py (see there): interactive mode
    "load": "from sacred import Experiment\nfrom sacred.observers import FileStorageObserver\n\n"
    "ex = Experiment('bench', interactive=True)\n"
    "ex.observers.append(FileStorageObserver('store/sacred'))\n"
    "ex.add_config({f'a{i}': 0 for i in range(10)})  # the ten params the cell sets\n\n\n"
    "@ex.main\ndef main(_run):\n    _run.log_scalar('s', s)\n",
    "track": "{cell}run = ex.run(config_updates={params})\n",
}
STORE = Path.cwd() / "store"
STORE.mkdir(exist_ok=True)
SETTINGS.CAPTURE_MODE = "sys"  # the default "fd" would swallow this child's JSON line


def experiment() -> Experiment:
    ex = Experiment("bench", save_git_info=False)
    ex.observers.append(FileStorageObserver(str(STORE / "sacred")))
    return ex


def log_points(n: int, keys: int, budget_s: float) -> dict[str, Any]:
    """(a)/(b): ``_run.log_scalar`` per key and step inside the experiment's main function."""
    data: Any = values(n) if keys == 1 else rows10(n)
    out: dict[str, Any] = {}
    ex = experiment()

    @ex.main
    def main(_run: Any) -> None:
        log_scalar = _run.log_scalar
        if out.pop("warm_up", False):
            log_scalar("loss", 0.5, 0)
            return
        out["t0"] = time.perf_counter()
        done = 0
        if keys == 1:
            for lo, hi in chunks(n, budget_s):
                for i in range(lo, hi):
                    log_scalar("loss", data[i], i)
                done = hi
        else:
            for lo, hi in chunks(n, budget_s):
                for i in range(lo, hi):
                    row = data[i]
                    for key in KEYS10:
                        log_scalar(key, row[key], i)
                done = hi
        out["steps"] = done
        out["loop_s"] = time.perf_counter() - out["t0"]

    out["warm_up"] = True
    ex.run()  # creates the store: not counted on disk
    before = disk_bytes(STORE)
    run = ex.run()
    seconds = time.perf_counter() - out["t0"]
    return {
        "steps": out["steps"],
        "seconds": seconds,
        "loop_s": out["loop_s"],
        "bytes": disk_bytes(STORE) - before,
        "run": run._id,
    }


def run_params(count: int, budget_s: float) -> dict[str, Any]:
    """(c): ``ex.run(config_updates=10 params)`` logging one scalar."""
    ex = experiment()
    ex.add_config(PARAMS)

    @ex.main
    def main(_run: Any) -> None:
        _run.log_scalar("loss", 0.5)

    return timed_runs(ex.run, count, budget_s)
