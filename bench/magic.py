"""What ``%%track`` costs in a real kernel: prints figures beside same-run references; never asserts timings.

    .venv/bin/python bench/magic.py [--quick] [--json out.json]

Every figure is measured *inside* an IPython kernel (``jupyter_client.KernelManager``, ``python3``
kernel of this venv) started in a temporary git work tree with its own ``NBTRACK_STORE`` and
``JPY_SESSION_NAME`` (as JupyterLab starts kernels), so nothing touches the repository's ``.nbtrack/``.

How a cell is timed: the kernel gets a cell timer whose input transformer runs *first* (before
nbtrack's) and whose ``post_run_cell`` callback runs *last* (after nbtrack's, which ends the run). Each
top-level cell sent by this script is thus timed from the start of IPython's input transformation to the
end of its last ``post_run_cell`` callback: what nbtrack adds to a cell the user runs, without ZMQ.
Cells are sent one execute request each, as a notebook sends them.

Why not ``get_ipython().run_cell(cell)`` from a loop inside one cell: nbtrack treats a cell run while
another is executing as *nested* (its ``%%track`` goes through the cell magic, as under ``%%time``), so
that loop measures the magic path, not the path of a top-level ``%%track`` cell. It is reported too
(figure 3), as the cost of ``%%time`` + ``%%track``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from common import revision  # bench/ is sys.path[0] when a script here runs
from jupyter_client.manager import KernelManager

FULL = {
    "cells": 200,
    "warmup": 50,
    "loop": 10_000_000,
    "loop_pairs": 7,
    "fresh_kernels": 5,
    "earlier": 10_000,
}
QUICK = {"cells": 100, "warmup": 20, "loop": 10_000_000, "loop_pairs": 3, "fresh_kernels": 3, "earlier": 2000}

PARAMS_CELL = "\n".join(f"a{i} = {i + 1}" for i in range(10)) + (
    "\ns = sum([" + ", ".join(f"a{i}" for i in range(10)) + "])\n"
)
TRACK = "%%track -q\n"
TRACK_SUMMARY = "%%track\n"  # the default: the summary line, with its comparison to earlier runs

#: Installed in every kernel: times each top-level cell (see the module docstring).
CELL_TIMER = r'''
import json as _json
import time as _time


class _CellTimer:
    """Times top-level cells from the first input transformer to the end of the last post_run_cell."""

    def __init__(self, shell):
        self.shell = shell
        self.start = None
        self.times = []
        self.recording = False

    def transform(self, lines):
        if self.start is None:
            self.start = _time.perf_counter()
        return lines

    def post_run_cell(self, result):
        if self.recording and self.start is not None:
            self.times.append(_time.perf_counter() - self.start)
        self.start = None

    def install(self):
        """(Re)install: the transformer before every other one, the callback after every other one."""
        cleanup = self.shell.input_transformers_cleanup
        while self.transform in cleanup:
            cleanup.remove(self.transform)
        cleanup.insert(0, self.transform)
        if self.post_run_cell in self.shell.events.callbacks["post_run_cell"]:
            self.shell.events.unregister("post_run_cell", self.post_run_cell)
        self.shell.events.register("post_run_cell", self.post_run_cell)

    def arm(self):
        """Record the cells after this one (not this one)."""
        self.times, self.recording, self.start = [], True, None

    def take(self):
        """Stop recording; print the recorded times as JSON."""
        self.recording = False
        print(_json.dumps(self.times))


def _nested(cell, n, warmup):
    """Times of get_ipython().run_cell(cell) called from this cell: nested cells."""
    shell = get_ipython()
    for _ in range(warmup):
        shell.run_cell(cell)
    times = []
    for _ in range(n):
        t0 = _time.perf_counter()
        shell.run_cell(cell)
        times.append(_time.perf_counter() - t0)
    print(_json.dumps(times))


def _is_nbtrack(function):
    return getattr(function, "__module__", "").startswith("nbtrack.")


class _Phases:
    """Times nbtrack's own transformer and event callbacks, by wrapping them where they are registered."""

    def __init__(self, shell):
        self.shell = shell
        self.times = {}
        self.undo = []

    def wrap(self):
        places = [("transform", self.shell.input_transformers_cleanup)]
        places += list(self.shell.events.callbacks.items())
        for name, functions in places:
            for i, function in enumerate(functions):
                if _is_nbtrack(function):
                    functions[i] = self._timed(name, function)
                    self.undo.append((functions, i, function))

    def _timed(self, name, function):
        def timed(*args, **kwargs):
            t0 = _time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.times.setdefault(name, []).append(_time.perf_counter() - t0)

        return timed

    def take(self):
        print(_json.dumps(self.times))
        self.times = {}

    def unwrap(self):
        for functions, i, function in self.undo:
            functions[i] = function
        self.undo = []


_timer = _CellTimer(get_ipython())
_timer.install()
_phases = _Phases(get_ipython())
'''

#: Earlier runs of the experiment the benchmark's cells run in, with the metric those cells report.
EARLIER_RUNS = """
import nbtrack

for _i in range({n}):
    with nbtrack.start_run(experiment="bench") as _run:
        _run.log(s=float(_i))
"""

LOAD_EXT = "get_ipython().run_line_magic('load_ext', 'nbtrack')\n_timer.install()\n"

FIRST_LOAD = r"""
_t0 = _time.perf_counter()
get_ipython().run_line_magic("load_ext", "autoreload")
_t1 = _time.perf_counter()
get_ipython().run_line_magic("load_ext", "nbtrack")
_t2 = _time.perf_counter()
_timer.install()
print(_json.dumps([_t1 - _t0, _t2 - _t1]))
"""


class Kernel:
    """A fresh python3 kernel in ``folder``, writing to ``store``; cells run one execute request each."""

    def __init__(self, folder: Path, store: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NBTRACK_")}
        env.update(NBTRACK_STORE=str(store), JPY_SESSION_NAME=str(folder / "bench.ipynb"))
        sockets = str(folder / f"kernel-{id(self)}")  # IPC: less overhead than TCP on one machine
        self.manager = KernelManager(kernel_name="python3", transport="ipc", ip=sockets)
        self.manager.start_kernel(cwd=str(folder), env=env)
        self.client = self.manager.blocking_client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.run(CELL_TIMER)

    def run(self, code: str, timeout: float = 600) -> str:
        """Execute one cell; its stdout (stderr is echoed to ours: nbtrack warnings must be seen)."""
        out: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            kind, content = msg["header"]["msg_type"], msg["content"]
            if kind == "stream" and content["name"] == "stdout":
                out.append(content["text"])
            elif kind == "stream":
                sys.stderr.write(f"[kernel stderr] {content['text']}")
            elif kind == "error":
                sys.stderr.write("\n".join(content["traceback"]) + "\n")

        reply = self.client.execute_interactive(code, timeout=timeout, output_hook=hook)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"cell failed in the kernel:\n{code}")
        return "".join(out)

    def value(self, code: str) -> Any:
        """Run a cell that prints one JSON document; return it."""
        return json.loads(self.run(code).strip().splitlines()[-1])

    def timed(self, cells: list[str]) -> list[float]:
        """In-kernel times (s) of ``cells``, each sent as its own top-level cell."""
        self.run("_timer.arm()")
        for cell in cells:
            self.run(cell)
        times: list[float] = self.value("_timer.take()")
        if len(times) != len(cells):
            raise RuntimeError(f"timed {len(times)} cells, sent {len(cells)}")
        return times

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=False)


# -- statistics and the table ---------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class Row:
    """One line of the table: a figure, its same-run reference, the difference and the target."""

    id: str
    measurement: str
    value: float
    unit: str
    reference: float | None = None
    reference_name: str = ""
    extra: float | None = None  # value - reference, when that is what the target is about
    ratio: float | None = None  # value / reference, when that is what the target is about
    target: float | None = None
    note: str = ""

    @property
    def judged(self) -> float | None:
        if self.target is None:
            return None
        return self.ratio if self.ratio is not None else self.extra if self.extra is not None else self.value

    @property
    def result(self) -> str:
        judged = self.judged
        return "" if judged is None or self.target is None else ("PASS" if judged <= self.target else "MISS")


def ms(seconds: float) -> float:
    return seconds * 1e3


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    digits = 3 if abs(value) < 1 else 2 if abs(value) < 100 else 0
    return f"{value:.{digits}f} {unit}"


def print_table(rows: list[Row]) -> None:
    lines = [("measurement", "nbtrack", "reference (same run)", "extra / ratio", "target", "", "note")]
    for r in rows:
        ref = "" if r.reference is None else f"{fmt(r.reference, r.unit)} {r.reference_name}"
        if r.ratio is not None:
            delta = f"{r.ratio:.3f}x"
        elif r.extra is not None:
            delta = f"{r.extra:+.3f} {r.unit}"
        else:
            delta = ""
        unit = "x" if r.ratio is not None else r.unit
        target = "" if r.target is None else f"<= {r.target:g} {unit}".rstrip()
        lines.append(
            (f"{r.id:<4}{r.measurement}", fmt(r.value, r.unit), ref, delta, target, r.result, r.note)
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for k, line in enumerate(lines):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))


# -- the measurements -----------------------------------------------------------------------------
def work_tree(folder: Path) -> None:
    """A git work tree with one commit, like the repository a notebook usually lives in."""
    git = ["git", "-C", str(folder), "-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    (folder / "README.md").write_text("benchmark work tree\n")
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "README.md"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "start"], check=True)


def bench_cells(folder: Path, size: dict[str, int]) -> tuple[list[Row], dict[str, Any]]:
    """(1) plain cells without/with the extension, (2) %%track -q cells, (3) nested, (5) tight loop."""
    n, warm = size["cells"], size["warmup"]
    plain, tracked_cell = PARAMS_CELL, TRACK + PARAMS_CELL
    kernel = Kernel(folder, folder / "store" / "nbtrack.db")
    try:
        kernel.timed([plain] * warm)
        plain_off = kernel.timed([plain] * n)
        kernel.run(LOAD_EXT)
        kernel.run("get_ipython()._nbtrack_extension.startup.join(60)")
        kernel.timed([plain] * warm)
        plain_on = kernel.timed([plain] * n)
        kernel.timed([tracked_cell] * warm)
        tracked = kernel.timed([tracked_cell] * n)
        kernel.timed([TRACK_SUMMARY + plain] * warm)
        summarised = kernel.timed([TRACK_SUMMARY + plain] * n)
        plain_after = kernel.timed([plain] * n)
        kernel.run("_phases.wrap()")
        kernel.timed([plain] * n)
        phases_plain = kernel.value("_phases.take()")
        kernel.timed([tracked_cell] * n)
        phases_tracked = kernel.value("_phases.take()")
        kernel.run("_phases.unwrap()")
        nested_plain = kernel.value(f"_nested({plain!r}, {n}, {warm})")
        nested_tracked = kernel.value(f"_nested({tracked_cell!r}, {n}, {warm})")
        loop = f"s = 0\nfor i in range({size['loop']}):\n    s += i\n"
        pairs = []
        for _ in range(size["loop_pairs"] + 1):  # the first pair warms up, and is dropped
            pairs.append((kernel.timed([loop])[0], kernel.timed([TRACK + loop])[0]))
        pairs = pairs[1:]
        kernel.run(EARLIER_RUNS.format(n=size["earlier"]), timeout=1800)
        tracked_later = kernel.timed([tracked_cell] * n)
        summarised_later = kernel.timed([TRACK_SUMMARY + plain] * n)
        runs = kernel.value("import nbtrack; print(_json.dumps(len(nbtrack.runs())))")
    finally:
        kernel.close()
    expected_runs = 3 * (warm + n) + 3 * n + size["loop_pairs"] + 1 + size["earlier"]

    def p(values: list[float], q: float = 50) -> float:
        return ms(pct(values, q))

    def phase(times: dict[str, list[float]], name: str) -> float:
        return p(times.get(name, [0.0]))

    hooks_on_plain = sum(p(times) for times in phases_plain.values())
    loop_plain = statistics.median(plain for plain, _ in pairs)
    loop_tracked = statistics.median(tracked for _, tracked in pairs)
    loop_ratio = statistics.median(tracked / plain for plain, tracked in pairs)
    rows = [
        Row("1a", "plain cell, extension not loaded, p50", p(plain_off), "ms"),
        Row("1b", "plain cell, extension not loaded, p95", p(plain_off, 95), "ms"),
        Row("1c", "plain cell, extension loaded, p50", p(plain_on), "ms", p(plain_off), "(1a)",
            extra=p(plain_on) - p(plain_off), note="end to end, before any tracked cell"),
        Row("1d", "plain cell, extension loaded, p95", p(plain_on, 95), "ms", p(plain_off, 95), "(1b)",
            extra=p(plain_on, 95) - p(plain_off, 95)),
        Row("1e", "plain cell, ext. loaded, after runs, p50", p(plain_after), "ms", p(plain_off), "(1a)",
            extra=p(plain_after) - p(plain_off), note=f"end to end, after {2 * (warm + n)} tracked cells"),
        Row("1f", "nbtrack callbacks on a plain cell, p50", hooks_on_plain, "ms", None, "", target=0.1,
            note="sum of the p50s of its transformer and 4 event callbacks, timed where registered"),
        Row("2a", "%%track -q cell, p50", p(tracked), "ms", p(plain_off), "(1a)",
            extra=p(tracked) - p(plain_off), target=5.0, note="10 literal params + sum, hooks path"),
        Row("2b", "%%track -q cell, p95", p(tracked, 95), "ms", p(plain_off, 95), "(1b)",
            extra=p(tracked, 95) - p(plain_off, 95)),
        Row("2g", "%%track cell (summary shown), p50", p(summarised), "ms", p(plain_off), "(1a)",
            extra=p(summarised) - p(plain_off), target=5.0,
            note="the default: run line with best-so-far and change since the previous run"),
        Row("2h", "%%track cell (summary shown), p95", p(summarised, 95), "ms", p(plain_off, 95), "(1b)",
            extra=p(summarised, 95) - p(plain_off, 95)),
        Row("2f", f"%%track -q cell, p50, {size['earlier']:,} runs more", p(tracked_later), "ms",
            p(tracked), "(2a)", extra=p(tracked_later) - p(tracked),
            note="the same cell once the experiment holds that many more runs with its metric"),
        Row("2i", f"%%track cell (summary shown), p50, {size['earlier']:,} runs more", p(summarised_later),
            "ms", p(summarised), "(2g)", extra=p(summarised_later) - p(summarised),
            note="its comparison with every earlier run of the experiment reads indexes, not runs"),
        Row("2c", "  of which pre_run_cell (start), p50", phase(phases_tracked, "pre_run_cell"), "ms",
            note="analyse the cell, start the run, log params, start capture"),
        Row("2d", "  of which post_run_cell (end), p50", phase(phases_tracked, "post_run_cell"), "ms",
            note="metrics, outputs, context, end the run (summary is built even with -q)"),
        Row("2e", "  of which the transformer, p50", phase(phases_tracked, "transform"), "ms"),
        Row("3a", "nested %%track -q (magic path), p50", p(nested_tracked), "ms", p(nested_plain),
            "nested plain", extra=p(nested_tracked) - p(nested_plain),
            note="run_cell() from a cell: the path under %%time"),
        Row("3b", "nested %%track -q (magic path), p95", p(nested_tracked, 95), "ms",
            p(nested_plain, 95), "nested plain", extra=p(nested_tracked, 95) - p(nested_plain, 95)),
        Row("5", f"tight loop, {size['loop']:,} additions", loop_tracked, "s", loop_plain,
            "same cell untracked", ratio=loop_ratio, target=1.02,
            note=f"median ratio of {size['loop_pairs']} alternating pairs (a warm-up pair dropped)"),
    ]  # fmt: skip
    facts = {"runs_recorded": runs, "runs_expected": expected_runs, "loop_pairs_s": pairs}
    return rows, facts


def bench_load(folder: Path, size: dict[str, int]) -> list[Row]:
    """(4) %load_ext nbtrack in fresh kernels, and the first %%track cell right after it."""
    loads, references, firsts = [], [], []
    for i in range(size["fresh_kernels"]):
        kernel = Kernel(folder, folder / f"store-load{i}" / "nbtrack.db")
        try:
            reference, load = kernel.value(FIRST_LOAD)
            firsts += kernel.timed([TRACK + PARAMS_CELL])
        finally:
            kernel.close()
        loads.append(load)
        references.append(reference)
    k = size["fresh_kernels"]
    return [
        Row("4a", "%load_ext nbtrack, fresh kernel", ms(statistics.median(loads)), "ms",
            ms(statistics.median(references)), "%load_ext autoreload", note=f"median of {k} kernels"),
        Row("4b", "first %%track -q cell after loading", ms(statistics.median(firsts)), "ms", None, "",
            note="the next cell, as in Run All; the store opens in the background meanwhile"),
    ]  # fmt: skip


def versions() -> str:
    from importlib.metadata import version

    names = ("ipython", "ipykernel", "jupyter_client")
    return ", ".join(f"{name} {version(name)}" for name in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer cells and kernels, about 30 s")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    started = time.perf_counter()
    print(f"nbtrack %%track benchmark ({'quick' if args.quick else 'full'}): {size}")
    print(revision())
    print(f"python {sys.version.split()[0]}, {versions()}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="nbtrack-bench-magic-") as tmp_name:
        folder = Path(tmp_name)
        work_tree(folder)
        rows, facts = bench_cells(folder, size)
        rows += bench_load(folder, size)
    rows.sort(key=lambda r: r.id)
    wall = time.perf_counter() - started
    print()
    print_table(rows)
    print()
    print("cell = 10 literal assignments + s = sum([...]); times measured in the kernel, from IPython's")
    print("input transformation to the end of post_run_cell; p50/p95 of one execute request per cell")
    pairs = ", ".join(f"{plain:.3f}/{tracked:.3f}" for plain, tracked in facts["loop_pairs_s"])
    print(f"tight loop pairs, untracked/tracked s: {pairs}")
    print(f"runs recorded by the tracked cells: {facts['runs_recorded']} (expected {facts['runs_expected']})")
    print(f"wall time {wall:.1f} s")
    if args.json:
        meta = {"size": size, "wall_s": wall, "nbtrack": revision(), "versions": versions(), **facts}
        out = [{**asdict(r), "result": r.result} for r in rows]
        args.json.write_text(json.dumps({"meta": meta, "rows": out}, indent=2))


if __name__ == "__main__":
    main()
