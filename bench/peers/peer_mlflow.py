"""MLflow with its SQLite backend (``sqlite:///store/mlflow.db``), the fluent API as users write it.

``mlflow.log_metric`` writes synchronously, so each point is persisted when the call returns.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from workload import PARAMS, chunks, cold_warm, disk_bytes, rows10, timed_runs, values

IMPORT = "mlflow"
NOTEBOOK = {  # workload (h), run in a real kernel by cells.py (see there)
    "load": "import mlflow",
    "track": "{cell}with mlflow.start_run():\n"
    "    mlflow.log_params({params})\n    mlflow.log_metric('s', s)\n",
    "env": {"MLFLOW_TRACKING_URI": "sqlite:///{store}/mlflow.db"},
}
STORE = Path.cwd() / "store"
STORE.mkdir(exist_ok=True)
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{STORE / 'mlflow.db'}"
os.environ["MLFLOW_ARTIFACTS_DESTINATION"] = str(STORE / "artifacts")
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")

import mlflow  # noqa: E402  (after the environment)


def log_points(n: int, keys: int, budget_s: float) -> dict[str, Any]:
    """(a)/(b): ``mlflow.log_metric`` (one key) or ``log_metrics`` (ten) per step."""
    data: Any = values(n) if keys == 1 else rows10(n)
    with mlflow.start_run(run_name="warm-up"):  # creates the schema: not counted on disk
        mlflow.log_metric("loss", 0.5, step=0)
    before = disk_bytes(STORE)
    done = 0
    run = mlflow.start_run(run_name="points")
    t0 = time.perf_counter()
    with run:
        if keys == 1:
            log_metric = mlflow.log_metric
            for lo, hi in chunks(n, budget_s):
                for i in range(lo, hi):
                    log_metric("loss", data[i], step=i)
                done = hi
        else:
            log_metrics = mlflow.log_metrics
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
        "run": run.info.run_id,
    }


def one_run() -> None:
    with mlflow.start_run():
        mlflow.log_params(PARAMS)
        mlflow.log_metric("loss", 0.5)


def run_params(count: int, budget_s: float) -> dict[str, Any]:
    """(c): start_run, 10 params, 1 metric, end."""
    return timed_runs(one_run, count, budget_s)


def runs_frame(warm: int) -> dict[str, Any]:
    """(d): ``mlflow.search_runs()`` (a pandas DataFrame)."""
    return cold_warm(lambda: mlflow.search_runs(search_all_experiments=True, max_results=100_000), warm)


def fill_history(n: int) -> dict[str, Any]:
    """(e) setup: ``n`` points of ``loss`` in one run, written with ``log_batch`` (1,000 a call)."""
    from mlflow.entities import Metric

    data = values(n)
    client = mlflow.MlflowClient()
    now = int(time.time() * 1000)
    with mlflow.start_run() as run:
        for lo in range(0, n, 1000):
            batch = [Metric("loss", data[i], now + i, i) for i in range(lo, min(n, lo + 1000))]
            client.log_batch(run.info.run_id, metrics=batch)
    return {"run": run.info.run_id}


def history(run: str, warm: int) -> dict[str, Any]:
    """(e): ``MlflowClient.get_metric_history`` turned into a DataFrame (step, value, timestamp)."""
    import pandas as pd

    client = mlflow.MlflowClient()

    def read() -> Any:
        points = client.get_metric_history(run, "loss")
        return pd.DataFrame(
            {
                "step": [p.step for p in points],
                "value": [p.value for p in points],
                "timestamp": [p.timestamp for p in points],
            }
        )

    return cold_warm(read, warm)
