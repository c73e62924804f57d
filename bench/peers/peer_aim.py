"""Aim (``Run(repo="store")``), as users write it: ``run.track(value, name=..., step=i)``.

Aim writes each run's sequences to its RocksDB containers; ``run.close()`` finalizes them. Aim 3.29
reads runs (``Repo.query_runs``, ``Run(hash, read_only=True)``) through its repository *index*, which
only Aim's indexer writes: the one ``aim up`` / ``aim server`` run in the background, or ``aim storage
reindex``. Until then a fresh process sees no run (``KeyError: 'No key () is present.'``, metrics
``None``), so :func:`index` runs ``aim storage reindex`` (timed, reported) before the reads of (d)/(e).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from aim import Repo, Run
from aim.storage.context import Context
from workload import PARAMS, chunks, cold_warm, disk_bytes, rows10, timed_runs, values

IMPORT = "aim"
NOTEBOOK = {  # workload (h), run in a real kernel by cells.py (see there)
    "load": "from aim import Run",
    "track": "{cell}run = Run()\nrun['hparams'] = {params}\nrun.track(s, name='s')\nrun.close()\n",
}
STORE = Path.cwd() / "store"
STORE.mkdir(exist_ok=True)


def log_points(n: int, keys: int, budget_s: float) -> dict[str, Any]:
    """(a)/(b): ``run.track`` per step (a dict of ten keys for (b)), then ``run.close()``."""
    data: Any = values(n) if keys == 1 else rows10(n)
    warm = Run(repo=str(STORE), experiment="bench")  # creates the repo: not counted on disk
    warm.track(0.5, name="loss", step=0)
    warm.close()
    before = disk_bytes(STORE)
    done = 0
    run = Run(repo=str(STORE), experiment="bench")
    t0 = time.perf_counter()
    track = run.track
    if keys == 1:
        for lo, hi in chunks(n, budget_s):
            for i in range(lo, hi):
                track(data[i], name="loss", step=i)
            done = hi
    else:
        for lo, hi in chunks(n, budget_s):
            for i in range(lo, hi):
                track(data[i], step=i)
            done = hi
    loop_s = time.perf_counter() - t0
    run_hash = run.hash
    run.close()
    seconds = time.perf_counter() - t0
    bytes_ = disk_bytes(STORE) - before
    return {"steps": done, "seconds": seconds, "loop_s": loop_s, "bytes": bytes_, "run": run_hash}


def one_run() -> None:
    run = Run(repo=str(STORE), experiment="bench")
    run["hparams"] = PARAMS
    run.track(0.5, name="loss", step=0)
    run.close()


def run_params(count: int, budget_s: float) -> dict[str, Any]:
    """(c): ``Run()``, ``run["hparams"] = 10 params``, one metric, ``close()``."""
    return timed_runs(one_run, count, budget_s)


def runs_frame(warm: int) -> dict[str, Any]:
    """(d): ``Repo.query_runs(...).dataframe()`` (params and props of every run)."""
    repo = Repo(str(STORE))
    return cold_warm(lambda: repo.query_runs("run.experiment == 'bench'", report_mode=0).dataframe(), warm)


def index() -> dict[str, Any]:
    """Before (d)/(e): index the repository with Aim's own command, as its UI's indexer would."""
    aim = Path(sys.executable).parent / "aim"
    t0 = time.perf_counter()
    subprocess.run(
        [str(aim), "storage", "--repo", str(STORE), "reindex", "-y"], check=True, capture_output=True
    )
    return {"seconds": time.perf_counter() - t0}


def fill_history(n: int) -> dict[str, Any]:
    """(e) setup: a run with ``n`` points of ``loss``."""
    return {"run": log_points(n, 1, budget_s=1e9)["run"]}


def history(run: str, warm: int) -> dict[str, Any]:
    """(e): the run's ``loss`` metric as a DataFrame (``Run(hash).get_metric(...).dataframe()``)."""

    def read() -> Any:
        return Run(run, repo=str(STORE), read_only=True).get_metric("loss", Context({})).dataframe()

    return cold_warm(read, warm)
