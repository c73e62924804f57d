"""How nbtrack's costs grow from 10^3 to 10^6 points and runs (issue 8, Must-have 4); saves a log-log plot.

    .venv/bin/python bench/scaling.py [--quick] [--max-runs 1000000] [--json out.json]

Every figure comes from bench/core.py's own child processes (``core.child``: a fresh interpreter
running ``core.py --child NAME``, in a fresh temporary store), so it is measured exactly as core.py
measures its figures 1b, 3 and 5:

- **points**: one run logging N points of one key through ``run.log``, timed until ``run.end()`` has
  persisted them (core's ``child_log``), N = 10^3 ... 10^6; the store's growth after a WAL checkpoint.
- **runs**: the store created through the API, then N runs x 20 params x 5 metric summaries written in
  bulk with SQLAlchemy Core (core's ``child_build``, as its figure 3a), N = 10^3 ... 10^5 (10^6 with
  ``--max-runs 1000000``); ``nbtrack.runs()`` in a fresh process, first call and warm (median of 3
  more, core's ``child_runs``); the store's size.

Each point is the median of ``--repeats`` fresh processes, run interleaved across sizes (so a burst
of load from other work on the machine does not land on one size only). Slopes are least-squares
fits of log10(cost) on log10(N): 1 is linear, below 1 better than linear (fixed costs dominate at
the small end, so the slope over the last decade is printed too); the verdict takes the larger of
the two and counts 1 +- ``LINEAR_WITHIN`` as linear (the run-to-run noise of these figures). The
plot, ``bench/scaling.png``, shows the totals against N with a slope-1 reference line through each
series' largest point.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import revision  # bench/ is sys.path[0]
from core import child, disk_bytes

HERE = Path(__file__).resolve().parent
POINTS = [1_000, 10_000, 100_000, 1_000_000]
RUNS = [1_000, 10_000, 100_000, 1_000_000]
#: a slope within 1 +- this counts as linear: per-unit costs of single figures here move by about
#: +-20 % between processes on a shared 2-core machine, i.e. about +-0.08 in a slope over one decade
LINEAR_WITHIN = 0.1


def fresh(tmp: Path, name: str) -> Path:
    folder = tmp / name
    folder.mkdir()
    return folder


def points_series(tmp: Path, sizes: list[int], repeats: int) -> list[dict[str, Any]]:
    """Per-point log() cost and store growth; repeats interleaved across sizes (load bursts spread)."""
    results: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
    for r in range(repeats):
        for n in sizes:
            folder = fresh(tmp, f"points-{n}-{r}")
            results[n].append(child("log", folder, db=str(folder / "nbtrack.db"), n=n))
    out = []
    for n in sizes:
        us = statistics.median(x["persisted_us"] for x in results[n])
        per_point_bytes = statistics.median(x["bytes_per_point"] for x in results[n])
        out.append(
            {
                "n": n,
                "us_per_point": us,
                "us_each": [x["persisted_us"] for x in results[n]],
                "total_s": us * n / 1e6,
                "bytes_per_point": per_point_bytes,
                "bytes": per_point_bytes * n,
                "caller_us": statistics.median(x["caller_us"] for x in results[n]),
            }
        )
        each = ", ".join(f"{x:.2f}" for x in out[-1]["us_each"])
        print(
            f"  points {n:>9,}: {us:.2f} us/point persisted (each: {each}), {per_point_bytes:.2f} B/point",
            flush=True,
        )
    return out


def runs_series(tmp: Path, sizes: list[int], repeats: int) -> list[dict[str, Any]]:
    """runs() latency and store size; stores built first, then the reads interleaved across sizes."""
    dbs, built = {}, {}
    for n in sizes:
        folder = fresh(tmp, f"runs-{n}")
        dbs[n] = folder / "nbtrack.db"
        t0 = time.perf_counter()
        child("build", folder, db=str(dbs[n]), n_runs=n, n_params=20, n_metrics=5)
        built[n] = time.perf_counter() - t0
        print(f"  built {n:,} runs in {built[n]:.0f} s", flush=True)
    results: dict[int, list[dict[str, Any]]] = {n: [] for n in sizes}
    for _ in range(repeats):
        for n in sizes:
            results[n].append(child("runs", dbs[n].parent, db=str(dbs[n]), warm=3))
    out = []
    for n in sizes:
        rows = results[n][0]["shape"][0]
        if rows != n:
            raise RuntimeError(f"runs() returned {rows} rows for {n} runs")
        size = disk_bytes(dbs[n])
        out.append(
            {
                "n": n,
                "cold_s": statistics.median(x["cold_s"] for x in results[n]),
                "warm_s": statistics.median(x["warm_s"] for x in results[n]),
                "warm_each_s": [x["warm_s"] for x in results[n]],
                "bytes": size,
                "bytes_per_run": size / n,
                "build_s": built[n],
                "shape": results[n][0]["shape"],
            }
        )
        last = out[-1]
        each = ", ".join(f"{x * 1e3:,.0f}" for x in last["warm_each_s"])
        print(
            f"  runs {n:>11,}: runs() cold {last['cold_s'] * 1e3:,.0f} ms, "
            f"warm {last['warm_s'] * 1e3:,.1f} ms (each: {each}), {size / n:,.0f} B/run",
            flush=True,
        )
    return out


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log10(y) on log10(x)."""
    lx, ly = [math.log10(x) for x in xs], [math.log10(y) for y in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum((a - mx) ** 2 for a in lx)


def plot(points: list[dict[str, Any]], runs: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    panels = [
        (
            axes[0],
            "points in one run",
            points,
            [("total_s", "log() until persisted, s", "C0"), ("bytes", "store growth, MB", "C1")],
        ),
        (
            axes[1],
            "runs in the store (20 params, 5 metrics each)",
            runs,
            [
                ("warm_s", "runs() warm, s", "C0"),
                ("cold_s", "runs() first call, s", "C2"),
                ("bytes", "store size, MB", "C1"),
            ],
        ),
    ]
    for ax, xlabel, series, lines in panels:
        xs = [s["n"] for s in series]
        for key, label, color in lines:
            scale = 1e-6 if key == "bytes" else 1.0
            ys = [s[key] * scale for s in series]
            fit = slope(xs, ys)
            ax.loglog(xs, ys, "o-", color=color, label=f"{label} (slope {fit:.2f})")
            ref = [ys[-1] * x / xs[-1] for x in xs]  # slope 1 through the largest point
            ax.loglog(xs, ref, ":", color=color, alpha=0.6)
        ax.plot([], [], "k:", label="slope 1 (linear), through each largest point")
        ax.set_xlabel(xlabel)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7.5, loc="upper left")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="up to 10^5 points and 10^4 runs, 1 process each"
    )
    parser.add_argument("--max-runs", type=int, default=100_000, help="largest runs size (default 10^5)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per figure (default 3)")
    parser.add_argument("--png", type=Path, default=HERE / "scaling.png")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    point_sizes = POINTS[:3] if args.quick else POINTS
    run_sizes = [n for n in RUNS if n <= (10_000 if args.quick else args.max_runs)]
    repeats = 1 if args.quick else args.repeats
    started = time.perf_counter()
    print(f"nbtrack scaling: points {point_sizes}, runs {run_sizes}, {repeats} process(es) per figure")
    print(revision())
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="nbtrack-bench-scaling-") as tmp_name:
        tmp = Path(tmp_name)
        points = points_series(tmp, point_sizes, repeats)
        runs = runs_series(tmp, run_sizes, repeats)
    wall = time.perf_counter() - started
    fits = {
        "log() until persisted, total time vs points": slope(
            [p["n"] for p in points], [p["total_s"] for p in points]
        ),
        "store growth vs points": slope([p["n"] for p in points], [p["bytes"] for p in points]),
        "runs() warm vs runs": slope([r["n"] for r in runs], [r["warm_s"] for r in runs]),
        "runs() first call vs runs": slope([r["n"] for r in runs], [r["cold_s"] for r in runs]),
        "store size vs runs": slope([r["n"] for r in runs], [r["bytes"] for r in runs]),
    }
    top = {
        "log() until persisted, total time vs points": slope(
            [p["n"] for p in points[-2:]], [p["total_s"] for p in points[-2:]]
        ),
        "store growth vs points": slope([p["n"] for p in points[-2:]], [p["bytes"] for p in points[-2:]]),
        "runs() warm vs runs": slope([r["n"] for r in runs[-2:]], [r["warm_s"] for r in runs[-2:]]),
        "runs() first call vs runs": slope([r["n"] for r in runs[-2:]], [r["cold_s"] for r in runs[-2:]]),
        "store size vs runs": slope([r["n"] for r in runs[-2:]], [r["bytes"] for r in runs[-2:]]),
    }
    print()
    print(f"fitted log-log slopes (1 = linear; target: linear or better; 1 +- {LINEAR_WITHIN} is linear):")
    for name, fit in fits.items():
        worst = max(fit, top[name])
        verdict = (
            "better than linear"
            if worst < 1 - LINEAR_WITHIN + 1e-9
            else "linear"
            if worst <= 1 + LINEAR_WITHIN
            else "WORSE than linear"
        )
        print(f"  {name:<46} {fit:5.2f} over all sizes, {top[name]:5.2f} over the last decade  {verdict}")
    title = (
        f"nbtrack scaling ({revision()}, {os.cpu_count()} CPUs); "
        f"medians of {repeats} fresh process(es); dotted: slope 1"
    )
    plot(points, runs, args.png, title)
    print(f"plot: {args.png}")
    print(f"wall time {wall:.0f} s; load average {os.getloadavg()[0]:.2f} at the end")
    if args.json:
        data = {"points": points, "runs": runs, "slopes": fits, "slopes_last_decade": top, "wall_s": wall}
        args.json.write_text(json.dumps(data, indent=2))


if __name__ == "__main__":
    main()
