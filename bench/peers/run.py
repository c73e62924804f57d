"""nbtrack against the other trackers on the same workloads, in one run; prints one table.

    .venv/bin/python bench/peers/run.py [--quick] [--only mlflow,wandb] [--workloads abcdefgh]
                                        [--json out.json]

Each peer lives in its own virtualenv under bench/peers/.venvs/ (made on first use, reused after).
Every workload runs in a fresh subprocess of that venv's Python (``child.py``), in a fresh temporary
folder, timed inside the child, under a timeout; workload (h) times notebook cells inside real
kernels (cells.py). ``--quick`` runs nbtrack and the references only.
See bench/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from venvs import HERE, PEERS, Peer, install, install_kernel, version

FULL = {
    "points": 100_000,
    "steps10": 10_000,
    "runs": 1_000,
    "runs10k": 10_000,
    "creates": 50,
    "imports": 7,
    "repeats": 3,
    "cells": 100,
    "warmup": 20,
}
QUICK = {
    "points": 20_000, "steps10": 2_000, "runs": 200, "runs10k": 2_000, "creates": 20, "imports": 5,
    "repeats": 1, "cells": 40, "warmup": 10,
}  # fmt: skip
LOG_BUDGET_S = 30.0  # a peer slower than this on (a)/(b) is cut short and its per-point figure extrapolated
RUNS_BUDGET_S = 10.0
# (d) at 10,000 runs: the peers whose runs are made fast enough (MLflow ~32 ms a run: ~5 min); the
# others (Aim ~84 ms a run plus its reindex, exptrack ~57 ms) would take 10-20 minutes each
RUNS10K_PEERS = ("nbtrack", "mlflow")
WARM = 3
NBTRACK = Peer("nbtrack", (), "nbtrack")
WORKLOADS = [  # (key, label, unit)
    ("a", "(a) 1 metric x {points:,} steps, per-point calls, until persisted", "us/pt"),
    ("a_caller", "    ... of which the calls themselves (caller thread)", "us/pt"),
    ("b", "(b) 10 keys x {steps10:,} steps, until persisted", "us/pt"),
    ("c", "(c) run with 10 params + 1 metric, start to end", "ms"),
    ("d_cold", "(d) {runs:,} runs -> DataFrame, first call in a process", "ms"),
    ("d_warm", "    ... warm (median of 3 more calls)", "ms"),
    ("d10k_cold", "(d) {runs10k:,} runs -> DataFrame, first call in a process", "ms"),
    ("d10k_warm", "    ... warm (median of 3 more calls)", "ms"),
    ("e_cold", "(e) {points:,}-point history -> DataFrame, first call", "ms"),
    ("e_warm", "    ... warm (median of 3 more calls)", "ms"),
    ("f", "(f) import, over a bare interpreter", "ms"),
    ("g", "(g) bytes on disk per point, after (a)", "B/pt"),
    ("h", "(h) notebook cell, 10 literal params + 1 metric, tracked: p50 over the untracked cell", "ms"),
    ("h_p95", "    ... p95 over the untracked cell's p50", "ms"),
    ("h_loaded", "    untracked cell with the tracker loaded: p50 over the untracked cell", "ms"),
    ("h_after", "    ... the same after the tracked cells (hooks left by its runs)", "ms"),
    ("h_hooks", "    ... nbtrack's own transformer + callbacks on it (timed where registered), p50", "ms"),
    ("h_ref", "    untracked cell, tracker not loaded, p50 (each column's reference)", "ms"),
    ("h_noise", "    ... two identical untracked blocks differ by (noise), p50", "ms"),
]
NO_RATIO = ("h_loaded", "h_after", "h_hooks", "h_ref", "h_noise")  # differences within noise, or references


@dataclass
class Figure:
    """One cell of the table: a value, or why there is none; ``note`` marks extrapolated figures."""

    value: float | None = None
    why: str = ""
    note: str = ""


@dataclass
class Column:
    name: str
    version: str = ""
    status: str = ""  # "" when measured, else why not
    figures: dict[str, Figure] = field(default_factory=dict)
    remarks: list[str] = field(default_factory=list)  # printed under the table


class ChildError(Exception):
    """A workload's child process failed or timed out."""


def functions(module: str) -> set[str]:
    """The functions a ``peer_*.py`` module defines, i.e. the workloads it supports."""
    tree = ast.parse((HERE / f"{module}.py").read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def child(
    python: Path, module: str, workload: str, cwd: Path, timeout_s: float, **args: Any
) -> dict[str, Any]:
    """Run ``workload(**args)`` of ``module`` in a fresh interpreter in ``cwd``; its JSON result."""
    home = cwd / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "NBTRACK_STORE")}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), PYTHONHASHSEED="0")
    cmd = [str(python), str(HERE / "child.py"), module, workload, json.dumps(args)]
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the child's own session: it and any service it started
        proc.communicate()
        raise ChildError(f"timeout after {timeout_s:.0f} s") from None
    if proc.returncode:
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        raise ChildError(f"error: {lines[-1][:160] if lines else f'exit code {proc.returncode}'}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def import_ms(python: Path, module: str, count: int, cwd: Path) -> tuple[float, float]:
    """Median wall ms of ``python -c "import module"`` minus that of ``python -c pass`` (interleaved)."""
    bare, full = [], []
    for _ in range(count):
        for code, out in (("pass", bare), (f"import {module}", full)):
            t0 = time.perf_counter()
            subprocess.run([str(python), "-c", code], cwd=cwd, check=True, capture_output=True)
            out.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(full) - statistics.median(bare), statistics.median(bare)


def measure(
    column: Column, peer: Peer, python: Path, size: dict[str, int], tmp: Path, repeats: int, chosen: str
) -> None:
    """The ``chosen`` workloads (letters) the module supports, each in fresh processes; failures
    become cell notes."""
    module = f"peer_{peer.name}"
    have = functions(module)
    figs = column.figures
    n, steps10 = size["points"], size["steps10"]
    slow = LOG_BUDGET_S + 300

    def folder(name: str) -> Path:
        path = tmp / column.name / name
        path.mkdir(parents=True)
        return path

    def attempt(keys: tuple[str, ...], body: Any) -> None:
        if keys[0][0] not in chosen:
            return
        try:
            body()
        except ChildError as exc:
            for key in keys:
                figs[key] = Figure(why=str(exc))

    def log_a() -> None:
        results = [
            child(python, module, "log_points", folder(f"a{i}"), slow, n=n, keys=1, budget_s=LOG_BUDGET_S)
            for i in range(repeats)
        ]
        steps = results[0]["steps"]
        note = "" if steps == n else f"extrapolated from {steps:,} points"
        med = lambda key: statistics.median(r[key] / r["steps"] for r in results)  # noqa: E731
        figs["a"] = Figure(med("seconds") * 1e6, note=note)
        figs["a_caller"] = Figure(med("loop_s") * 1e6, note=note)
        figs["g"] = Figure(med("bytes"), note=f"measured on {steps:,} points" if note else "")
        logged.update(where=tmp / column.name / "a0", run=results[0]["run"] if steps == n else None)

    def history() -> None:
        where, run = logged.get("where"), logged.get("run")
        if where is None or run is None:
            where = folder("e")
            run = child(python, module, "fill_history", where, 1800, n=n)["run"]
        if "index" in have:  # a peer whose reads need an index built first (Aim)
            done = child(python, module, "index", where, 600)
            column.remarks.append(f"(e) index built before reading: {done['seconds']:.1f} s, not counted")
        result = child(python, module, "history", where, 600, run=run, warm=WARM)
        if result["rows"] != n:
            raise ChildError(f"error: history returned {result['rows']} rows, not {n}")
        figs["e_cold"], figs["e_warm"] = Figure(result["cold_s"] * 1e3), Figure(result["warm_s"] * 1e3)

    def log_b() -> None:
        results = [
            child(
                python, module, "log_points", folder(f"b{i}"), slow, n=steps10, keys=10, budget_s=LOG_BUDGET_S
            )
            for i in range(repeats)
        ]
        steps = results[0]["steps"]
        note = "" if steps == steps10 else f"extrapolated from {steps:,} steps"
        figs["b"] = Figure(
            statistics.median(r["seconds"] / (r["steps"] * 10) for r in results) * 1e6, note=note
        )

    def runs_c() -> None:
        args = {"count": size["creates"], "budget_s": RUNS_BUDGET_S}
        results = [child(python, module, "run_params", folder(f"c{i}"), 600, **args) for i in range(repeats)]
        figs["c"] = Figure(statistics.median(r["ms"] for r in results))

    def runs_d(runs: int = size["runs"], key: str = "d") -> None:
        where = folder(key)
        made = child(python, module, "make_runs", where, 3600, n=runs)
        if "index" in have:
            done = child(python, module, "index", where, 1800)
            column.remarks.append(f"({key}) index built before reading: {done['seconds']:.1f} s, not counted")
        result = child(python, module, "runs_frame", where, 600, warm=WARM)
        if result["rows"] < runs:
            raise ChildError(f"error: the frame has {result['rows']} rows, not {runs}")
        cold, warm = Figure(result["cold_s"] * 1e3), Figure(result["warm_s"] * 1e3)
        figs[f"{key}_cold"], figs[f"{key}_warm"] = cold, warm
        if "seconds" in made:
            column.remarks.append(f"({key}) {runs:,} runs made in {made['seconds']:.0f} s, not counted")

    no_api = Figure(why="no API")
    for keys in (("d_cold", "d_warm"), ("d10k_cold", "d10k_warm"), ("e_cold", "e_warm")):
        for key in keys if keys[0][0] in chosen else ():
            figs[key] = no_api
    logged: dict[str, Any] = {}  # where (a) left its store and run, for (e)
    attempt(("a", "a_caller", "g"), log_a)
    if "history" in have:
        attempt(("e_cold", "e_warm"), history)
    attempt(("b",), log_b)
    attempt(("c",), runs_c)
    if "runs_frame" in have:
        attempt(("d_cold", "d_warm"), runs_d)
        if peer.name in RUNS10K_PEERS:
            attempt(("d10k_cold", "d10k_warm"), lambda: runs_d(size["runs10k"], "d10k"))
        elif "d" in chosen:
            skipped = Figure(why=f"not run ({size['runs10k']:,} runs take too long to make)")
            figs["d10k_cold"] = figs["d10k_warm"] = skipped
    if "f" in chosen:
        ms, _ = import_ms(python, peer.module, size["imports"], tmp)
        figs["f"] = Figure(ms)
    attempt(
        ("h", "h_p95", "h_loaded", "h_after", "h_ref", "h_noise"),
        lambda: notebook_cells(figs, peer, python, size),
    )


def notebook_cells(figs: dict[str, Figure], peer: Peer, python: Path, size: dict[str, int]) -> None:
    """(h): cells timed inside a real kernel of the peer's venv (cells.py), one kernel."""
    import cells

    if peer.name != "nbtrack" and (why := install_kernel(peer)):
        raise ChildError(f"no kernel: {why}")
    try:
        r = cells.measure(python, f"peer_{peer.name}", {"cells": size["cells"], "warmup": size["warmup"]})
    except (RuntimeError, TimeoutError) as exc:
        raise ChildError(f"error: {exc}") from None
    note = f"IPython {r['ipython']}, ipykernel {r['ipykernel']}"
    figs["h"] = Figure(r["extra_p50"])
    figs["h_p95"] = Figure(r["extra_p95"])
    figs["h_loaded"] = Figure(r["loaded_extra"])
    figs["h_after"] = Figure(r["after_extra"])
    if r["hooks_p50"] is not None:
        figs["h_hooks"] = Figure(r["hooks_p50"])
    figs["h_ref"] = Figure(r["plain_p50"], why=note)
    figs["h_noise"] = Figure(r["noise"])


def references(size: dict[str, int], tmp: Path) -> dict[str, Figure]:
    """The naive limits, measured now with nbtrack's interpreter."""
    python = Path(sys.executable)
    raws = [child(python, "refs", "executemany", tmp / f"ref{i}", 300, n=size["points"]) for i in range(3)]
    commit = child(python, "refs", "commit", tmp / "commit", 300, count=200)
    _, bare = import_ms(python, "sys", size["imports"], tmp)
    row_us = statistics.median(r["row_us"] for r in raws)
    return {
        "a": Figure(row_us, note="row-per-point executemany (WAL, synchronous=NORMAL as nbtrack)"),
        "b": Figure(row_us, note="same"),
        "c": Figure(commit["ms"], note="one durable INSERT+COMMIT (WAL, synchronous=FULL)"),
        "f": Figure(bare, note="bare interpreter start (python -c pass)"),
        "g": Figure(statistics.median(r["bytes_per_row"] for r in raws), note="row-per-point table"),
    }


def cell(fig: Figure | None, base: Figure | None = None, star: bool = True) -> str:
    if fig is None:
        return ""
    if fig.value is None:
        return fig.why
    text = f"{fig.value:,.{0 if fig.value >= 100 else 1 if fig.value >= 10 else 2}f}"
    if fig.note and star:
        text += "*"
    if base is not None and base.value:
        text += f" ({fig.value / base.value:,.{0 if fig.value / base.value >= 10 else 1}f}x)"
    return text


def table(columns: list[Column], refs: dict[str, Figure], size: dict[str, int]) -> str:
    """The markdown table: a row per workload, nbtrack, each peer (ratio peer/nbtrack), references."""
    ours, peers = columns[0], columns[1:]
    head = ["workload", "unit", f"nbtrack {ours.version}"]
    head += [f"{c.name} {c.version}".strip() for c in peers] + ["naive limit (same run)"]
    rows = [head, ["---"] * len(head)]
    status = ["", "", ""] + [c.status for c in peers] + [""]
    if any(status):
        rows.append(["installed", "", "yes"] + [c.status or "yes" for c in peers] + [""])
    for key, label, unit in WORKLOADS:
        ref = refs.get(key)
        line = [label.format(**size), unit, cell(ours.figures.get(key))]
        base = None if key in NO_RATIO else ours.figures.get(key)
        line += [cell(c.figures.get(key), base) if not c.status else "" for c in peers]
        line.append(f"{cell(ref, star=False)} {ref.note}" if ref else "")
        rows.append(line)
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


PERSISTS_AS_IT_GOES = ("mlflow", "wandb", "aim", "dvclive", "trackio", "exptrack")  # not Sacred: in memory


def targets(columns: list[Column], refs: dict[str, Figure]) -> list[str]:
    """Issue 8's targets for nbtrack, checked against this run's figures."""
    ours = {k: f.value for k, f in columns[0].figures.items()}
    peer_a = [c.figures["a"].value for c in columns[1:] if c.name in PERSISTS_AS_IT_GOES and "a" in c.figures]
    fastest = min((v for v in peer_a if v is not None), default=None)
    checks = [
        ("per point persisted <= 0.75x executemany", ours.get("a"), 0.75 * (refs["a"].value or 0)),
        ("per point persisted, >= 5x faster than the fastest persisting peer", ours.get("a"),
         fastest / 5 if fastest else None),
        ("run with 10 params + 1 metric <= 1 ms", ours.get("c"), 1.0),
        ("1,000 runs -> DataFrame <= 30 ms (warm)", ours.get("d_warm"), 30.0),
        ("10,000 runs -> DataFrame <= 300 ms (warm)", ours.get("d10k_warm"), 300.0),
        ("100,000-point history <= 10 ms (warm)", ours.get("e_warm"), 10.0),
        ("import <= 20 ms over the bare interpreter", ours.get("f"), 20.0),
        ("<= 15 bytes per point", ours.get("g"), 15.0),
        ("%%track -q cell (10 literal params) p50 <= 5 ms over the untracked cell", ours.get("h"), 5.0),
        ("untracked cell, extension loaded: nbtrack's hooks <= 0.1 ms (p50)", ours.get("h_hooks"), 0.1),
    ]  # fmt: skip
    out = []
    for name, value, limit in checks:
        if value is None or limit is None:
            out.append(f"  ----  {name}: not measured")
        else:
            out.append(f"  {'PASS' if value <= limit else 'MISS'}  {name}: {value:,.2f} vs {limit:,.2f}")
    return out


def notes(columns: list[Column]) -> list[str]:
    out: list[str] = []
    for c in columns:
        for key, fig in c.figures.items():
            line = f"{c.name} ({key.split('_')[0]}): * {fig.note}"
            if fig.note and line not in out:
                out.append(line)
        out += [f"{c.name} {remark}" for remark in c.remarks]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="nbtrack and the references only, small sizes")
    parser.add_argument("--only", help="comma-separated peers (default: all): " + ",".join(PEERS))
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--workloads", default="abcdefgh", help="letters of the workloads to run (default: all, abcdefgh)"
    )
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    chosen = [] if args.quick else [PEERS[name] for name in (args.only.split(",") if args.only else PEERS)]
    started = time.perf_counter()
    sys.path.insert(0, str(HERE.parent))
    from common import revision

    print(f"nbtrack vs peers ({'quick' if args.quick else 'full'}): {size}", flush=True)
    print(revision())
    print(
        f"python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs", flush=True
    )
    import nbtrack

    columns = [Column("nbtrack", nbtrack.__version__)]
    for peer in chosen:
        t0 = time.perf_counter()
        why = install(peer)
        columns.append(
            Column(peer.name, "" if why else version(peer), f"not installable: {why}" if why else "")
        )
        state = f"not installable: {why}" if why else "ready"
        print(f"  {peer.name}: {state} ({time.perf_counter() - t0:.0f} s)", flush=True)
    with tempfile.TemporaryDirectory(prefix="nbtrack-peers-") as tmp_name:
        tmp = Path(tmp_name)
        refs = references(size, tmp)
        for col in columns:
            if col.status:
                continue
            t0 = time.perf_counter()
            if col.name == "nbtrack":
                measure(col, NBTRACK, Path(sys.executable), size, tmp, size["repeats"], args.workloads)
            else:
                measure(col, PEERS[col.name], PEERS[col.name].python, size, tmp, 1, args.workloads)
            print(f"  measured {col.name} in {time.perf_counter() - t0:.0f} s", flush=True)
    wall = time.perf_counter() - started
    print()
    print(table(columns, refs, size))
    print()
    print("ratios in brackets: peer / nbtrack (higher = nbtrack faster or smaller)")
    for line in notes(columns):
        print(line)
    kernels = [f"{c.name} {c.figures['h_ref'].why}" for c in columns if "h_ref" in c.figures]
    if kernels:
        print(f"(h) in-kernel times, {size['cells']} cells per block; kernels: " + "; ".join(kernels))
    print("targets (issue 8; sizes other than the full ones only indicate):")
    for line in targets(columns, refs):
        print(line)
    print(f"nbtrack: median of {size['repeats']} processes per figure; peers: one process each")
    print(f"wall time {wall:.0f} s")
    if args.json:
        data: dict[str, Any] = {
            c.name: {"version": c.version, "status": c.status, **{k: vars(f) for k, f in c.figures.items()}}
            for c in columns
        }
        data["references"] = {k: vars(f) for k, f in refs.items()}
        args.json.write_text(json.dumps({"size": size, "wall_s": wall, "columns": data}, indent=2))


if __name__ == "__main__":
    main()
