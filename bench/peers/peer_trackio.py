"""trackio in its local mode (``TRACKIO_DIR=store/``: one SQLite file per project), as users write it.

``trackio.log`` queues the point for a sender thread; ``trackio.finish()`` waits until it is written.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from workload import PARAMS, chunks, disk_bytes, rows10, timed_runs, values

IMPORT = "trackio"
NOTEBOOK = {  # workload (h), run in a real kernel by cells.py (see there)
    "load": "import trackio",
    "track": "{cell}trackio.init(project='bench', config={params})\n"
    "trackio.log({'s': s})\ntrackio.finish()\n",
    "env": {"TRACKIO_DIR": "{store}", "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"},
}
STORE = Path.cwd() / "store"
STORE.mkdir(exist_ok=True)
os.environ.update(TRACKIO_DIR=str(STORE), HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")

import trackio  # noqa: E402  (after the environment)


def log_points(n: int, keys: int, budget_s: float) -> dict[str, Any]:
    """(a)/(b): ``trackio.log({...}, step=i)`` per step, then ``trackio.finish()``."""
    data: Any = values(n) if keys == 1 else rows10(n)
    trackio.init(project="bench", name="warm-up")  # creates the database: not counted on disk
    trackio.log({"loss": 0.5}, step=0)
    trackio.finish()
    before = disk_bytes(STORE)
    done = 0
    run = trackio.init(project="bench", name="points")
    t0 = time.perf_counter()
    log = trackio.log
    if keys == 1:
        for lo, hi in chunks(n, budget_s):
            for i in range(lo, hi):
                log({"loss": data[i]}, step=i)
            done = hi
    else:
        for lo, hi in chunks(n, budget_s):
            for i in range(lo, hi):
                log(data[i], step=i)
            done = hi
    loop_s = time.perf_counter() - t0
    trackio.finish()
    seconds = time.perf_counter() - t0
    bytes_ = disk_bytes(STORE) - before
    return {"steps": done, "seconds": seconds, "loop_s": loop_s, "bytes": bytes_, "run": run.name}


def one_run() -> None:
    trackio.init(project="bench", config=PARAMS)
    trackio.log({"loss": 0.5})
    trackio.finish()


def run_params(count: int, budget_s: float) -> dict[str, Any]:
    """(c): ``trackio.init(config=10 params)``, one metric, ``finish()``."""
    return timed_runs(one_run, count, budget_s)
