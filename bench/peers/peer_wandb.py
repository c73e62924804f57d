"""Weights & Biases in offline mode (``WANDB_MODE=offline``, ``dir=store/``), as users write it.

``run.finish()`` returns once wandb's service process has written the run's ``.wandb`` file.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from workload import PARAMS, chunks, disk_bytes, rows10, timed_runs, values

IMPORT = "wandb"
NOTEBOOK = {  # workload (h), run in a real kernel by cells.py (see there)
    "load": "import wandb",
    "track": "{cell}run = wandb.init(project='bench', config={params}, mode='offline')\n"
    "run.log({'s': s})\nrun.finish()\n",
}
STORE = Path.cwd() / "store"
STORE.mkdir(exist_ok=True)
os.environ.update(WANDB_MODE="offline", WANDB_SILENT="true", WANDB_DIR=str(STORE))
os.environ.update(WANDB_DISABLE_GIT="true", WANDB_CONSOLE="off")

import wandb  # noqa: E402  (after the environment)


def init(**kw: Any) -> Any:
    return wandb.init(project="bench", dir=str(STORE), mode="offline", **kw)


def log_points(n: int, keys: int, budget_s: float) -> dict[str, Any]:
    """(a)/(b): ``run.log({...}, step=i)`` per step, then ``run.finish()``."""
    data: Any = values(n) if keys == 1 else rows10(n)
    warm = init(name="warm-up")  # starts the service process: not timed, not counted on disk
    warm.log({"loss": 0.5}, step=0)
    warm.finish()
    before = disk_bytes(STORE)
    done = 0
    run = init(name="points")
    t0 = time.perf_counter()
    log = run.log
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
    run.finish()
    seconds = time.perf_counter() - t0
    return {
        "steps": done,
        "seconds": seconds,
        "loop_s": loop_s,
        "bytes": disk_bytes(STORE) - before,
        "run": run.id,
    }


def one_run() -> None:
    run = init(config=PARAMS)
    run.log({"loss": 0.5})
    run.finish()


def run_params(count: int, budget_s: float) -> dict[str, Any]:
    """(c): ``wandb.init(config=10 params)``, one metric, ``finish()``."""
    return timed_runs(one_run, count, budget_s)
