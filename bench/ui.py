"""What the inline panels cost to build: prints figures beside same-run references; never asserts timings.

    .venv/bin/python bench/ui.py [--quick]

Measured in this process on fresh stores in a temporary folder (medians of a few repeats, after one
warm-up): downsampling a 1,000,000-point curve, opening such a curve from the store, the curves of a
comparison of 10 runs with 100,000 points each (data and Plotly figure, and the figure's size as it
would be saved in a notebook), the data of a run table of 10,000 runs, the table widget itself (first
page, then a re-sort), the compare panel of those 10 long runs, and ``log()`` with a live chart on.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from common import revision  # bench/ is sys.path[0] when a script here runs

FULL = {
    "points": 1_000_000,
    "compare_runs": 10,
    "compare_points": 100_000,
    "table_runs": 10_000,
    "repeats": 5,
}
QUICK = {"points": 200_000, "compare_runs": 10, "compare_points": 20_000, "table_runs": 2_000, "repeats": 3}


def timed(call: Callable[[], Any], repeats: int) -> float:
    """Median seconds of ``repeats`` calls, after one warm-up call."""
    call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def curve_values(n: int, seed: int = 0) -> np.ndarray:
    """A noisy decaying loss curve with a few spikes."""
    rng = np.random.default_rng(seed)
    base = 0.08 + 2.2 * np.exp(-np.arange(n) / (n / 6))
    return base * (1 + 0.05 * rng.standard_normal(n)) * np.where(rng.random(n) < 1e-4, 1.5, 1.0)


def log_run(run: Any, values: np.ndarray) -> None:
    for value in values.tolist():
        run.log(loss=value)


def row(label: str, value: float, unit: str, reference: str = "", ratio: float | None = None) -> None:
    shown = f"{value * 1e3:9.2f} ms" if unit == "s" else f"{value:9.0f} {unit}"
    extra = f"{ratio:6.1f}x" if ratio is not None else ""
    print(f"{label:<58}{shown:>14}   {reference:<44}{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a few seconds")
    size = QUICK if parser.parse_args().quick else FULL
    import nbtrack
    from nbtrack.query.downsample import downsample
    from nbtrack.query.history import load_curve, load_points
    from nbtrack.testing import isolated_session
    from nbtrack.ui.figures import Series, curves_figure

    print(f"nbtrack UI benchmark ({'quick' if size is QUICK else 'full'}): {size}")
    print(revision())
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}\n")
    reps = size["repeats"]
    with tempfile.TemporaryDirectory() as tmp:
        # 1. downsampling, against one numpy pass over the same array
        n = size["points"]
        from nbtrack.query.downsample import Points

        points = Points(np.arange(n, dtype=np.int64), curve_values(n), np.arange(n, dtype=np.float64))
        t_down = timed(lambda: downsample(points), reps)
        t_ref = timed(lambda: (np.min(points.values), np.max(points.values)), reps)
        row(f"downsample {n:,} points to <= 2,000 (min/max buckets)", t_down, "s",
            "np.min + np.max over the same array", t_down / t_ref)  # fmt: skip

        # 2. opening a long curve from the store, against fetching its chunk rows with sqlite3
        db = Path(tmp) / "long" / "nbtrack.db"
        with isolated_session(db) as session:
            with nbtrack.start_run() as run:
                log_run(run, curve_values(n))
            store = session.store()
            t_open = timed(lambda: load_curve(store, run.id, "loss"), reps)
            t_all = timed(lambda: load_points(store, run.id, "loss"), reps)
        raw = sqlite3.connect(db)
        fetch = "SELECT count, encoding, steps, \"values\", times FROM metric_chunks WHERE key = 'loss'"
        t_raw = timed(lambda: raw.execute(fetch).fetchall(), reps)
        raw.close()
        row(f"open a {n:,}-point curve for a chart (<= 2,000 drawn)", t_open, "s",
            "sqlite3 fetch of its chunk rows", t_open / t_raw)  # fmt: skip
        row(f"  of which reading all {n:,} points", t_all, "s")

        # 3. the curves of a comparison: 10 runs, one long key each
        db = Path(tmp) / "compare" / "nbtrack.db"
        runs_n, pts = size["compare_runs"], size["compare_points"]
        with isolated_session(db) as session:
            ids = []
            for i in range(runs_n):
                with nbtrack.start_run(name=f"run {i}") as run:
                    log_run(run, curve_values(pts, seed=i))
                ids.append((run.id, run.seq))
            store = session.store()

            def compare_curves() -> Any:
                series = []
                for run_id, seq in ids:
                    curve = load_curve(store, run_id, "loss")
                    series.append(Series(f"#{seq}", "loss", curve.points, 0.0, curve.exact))
                return curves_figure(series, smoothing=0.6)

            t_cmp = timed(compare_curves, reps)
            figure_bytes = len(compare_curves().to_json())
            first = load_curve(store, ids[0][0], "loss").points
            t_panel = timed(lambda: nbtrack.compare([seq for _, seq in ids]).curves, reps)
        row(f"comparison curves: {runs_n} runs x {pts:,} points, EMA on", t_cmp, "s")
        row(f"compare panel of those {runs_n} runs, curves tab open", t_panel, "s")
        row("  the figure as saved in a notebook (JSON)", figure_bytes / 1024, "KiB")
        one = Series("#1", "loss", first, 0.0)
        one_bytes = len(curves_figure([one]).to_json())
        row(f"  one {pts:,}-point curve, unsmoothed (JSON)", one_bytes / 1024, "KiB")

        # 4. the data behind a run table
        db = Path(tmp) / "table" / "nbtrack.db"
        n_runs = size["table_runs"]
        with isolated_session(db):
            for i in range(n_runs):
                with nbtrack.start_run(params={"lr": 10 ** -(i % 5), "bs": 32 * (i % 4 + 1)}) as run:
                    run.log(acc=i / n_runs, loss=1 - i / n_runs)
            t_table = timed(lambda: nbtrack.runs(), reps)
            t_widget = timed(lambda: nbtrack.table(), reps)
            table = nbtrack.table()
            flips = iter(range(10**6))

            def resort() -> None:
                table.view.sort = {"column": "metrics.acc", "descending": next(flips) % 2 == 0}

            t_sort = timed(resort, reps)
        raw = sqlite3.connect(db)
        tables = ("SELECT * FROM runs", "SELECT * FROM params", "SELECT * FROM metric_summaries")
        t_raw = timed(lambda: [raw.execute(q).fetchall() for q in tables], reps)
        raw.close()
        row(f"run table data: {n_runs:,} runs -> DataFrame", t_table, "s",
            "sqlite3 SELECT * of runs, params, metrics", t_table / t_raw)  # fmt: skip
        row(f"run table widget over {n_runs:,} runs (first page of 50)", t_widget, "s",
            "sqlite3 SELECT * of runs, params, metrics", t_widget / t_raw)  # fmt: skip
        row("  clicking a metric header (re-sort, new page)", t_sort, "s")

        # 5. log() with a live chart on, against the same loop with no chart
        live_points = size["points"]
        values = curve_values(live_points)

        def log_loop(with_chart: bool) -> float:
            from nbtrack.ui.live import LiveChart

            db = Path(tmp) / f"live-{with_chart}-{time.monotonic_ns()}" / "nbtrack.db"
            with isolated_session(db) as session:
                frames: list[int] = []
                with nbtrack.start_run() as run:
                    chart = None
                    if with_chart:
                        chart = LiveChart(run, session.tracker.writer.flush,
                                          lambda *a: frames.append(1), delay=0.0)  # fmt: skip
                    started = time.perf_counter()
                    log_run(run, values)
                    elapsed = time.perf_counter() - started
                if chart is not None:
                    chart.freeze()
                    assert frames, "the live chart never drew"
            return elapsed / live_points

        t_off = statistics.median(log_loop(False) for _ in range(3))
        t_on = statistics.median(log_loop(True) for _ in range(3))
        row(f"log() with a live chart on, {live_points:,} points", t_on * 1e9, "ns/pt",
            "the same loop without a chart", t_on / t_off)  # fmt: skip


if __name__ == "__main__":
    main()
