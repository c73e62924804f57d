"""Workload (h): what tracking costs a notebook cell, each tracker as its docs show it in a notebook.

Run by ``run.py`` with nbtrack's interpreter (it drives the kernels through jupyter_client); each
kernel runs the *peer's own* venv Python (``python -m ipykernel_launcher``, from a kernelspec written
into a temporary folder), in a fresh git work tree (a notebook usually lives in one) that holds the
peer's store, with ``HOME`` inside it and ``JPY_SESSION_NAME`` set as JupyterLab sets it.

Timing is bench/magic.py's, imported from it (its ``CELL_TIMER`` and its ``Kernel``'s execute and
timing methods): each cell is one execute request and is timed *inside* the kernel, from the first
input transformer to the last ``post_run_cell`` callback. The timer's hooks are reinstalled after
the load cell and after each block's warm-up cells, so hooks a tracker registers on its first cells
or runs are timed too (the timer's transformer stays first, its ``post_run_cell`` callback last).

Each ``peer_<name>.py`` declares its cells in a literal ``NOTEBOOK`` dict (read here with ``ast``, so
the peer is never imported into nbtrack's interpreter): ``load`` runs once (``%load_ext`` or the
imports), ``track`` is the tracked cell, where ``{cell}`` stands for the ten literal assignments and
``s = sum(...)`` of bench/magic.py and ``{params}`` for the dict of those ten names; ``env`` is added
to the kernel's environment (``{store}`` is the store folder). The untracked cell is ``{cell}``.
Every cell sent differs from the ones before in the value of its first param (:func:`edited`).

Order in one kernel: untracked cells (twice, to show the noise between two identical blocks), the
``load`` cell, untracked cells with the tracker loaded, tracked cells, untracked cells again (what
a tracker's hooks cost once it has made runs). Each block is preceded by
warm-up cells that are not counted. Figures (ms, in-kernel): the untracked cell's p50 (the
reference), the tracked cell's p50 and p95 minus that reference, and the untracked cell's p50 with
the tracker loaded (before and after its runs) minus that reference. A difference that small is
within the noise of two identical blocks (also reported), so for nbtrack the time its own
transformer and callbacks take on an untracked cell is measured directly too, as bench/magic.py's
figure 1f does (its ``_phases``).
"""

from __future__ import annotations

import ast
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from venvs import HERE

sys.path.insert(0, str(HERE.parent))  # bench/: magic.py (the timing method) and common.py
from magic import CELL_TIMER, PARAMS_CELL, Kernel, pct, work_tree

PARAM_NAMES = [f"a{i}" for i in range(10)]
PARAMS_DICT = "{" + ", ".join(f"{name!r}: {name}" for name in PARAM_NAMES) + "}"
FULL = {"cells": 100, "warmup": 20}
QUICK = {"cells": 40, "warmup": 10}


@dataclass(frozen=True)
class Notebook:
    """A tracker's notebook usage: its first cell, its tracked cell and its kernel environment."""

    load: str
    track: str
    env: dict[str, str]

    def tracked_cell(self, cell: str) -> str:
        return self.track.replace("{cell}", cell).replace("{params}", PARAMS_DICT)


def edited(count: int, start: int) -> list[str]:
    """``count`` versions of bench/magic.py's cell, each with another value of its first param.

    As when tuning: every cell differs from the one before, so a tracker that skips work for an
    unchanged re-run (exptrack keys its per-cell work on the cell's source) gets no free pass.
    """
    assert PARAMS_CELL.startswith("a0 = 1\n")
    return [f"a0 = {start + k}\n" + PARAMS_CELL[len("a0 = 1\n") :] for k in range(count)]


def notebook_of(module: str) -> Notebook | None:
    """The ``NOTEBOOK`` literal of ``peer_<name>.py``, or None when the module declares none."""
    tree = ast.parse((HERE / f"{module}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "NOTEBOOK" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            return Notebook(value["load"], value["track"], dict(value.get("env", {})))
    return None


class PeerKernel(Kernel):
    """bench/magic.py's timed kernel, started with another interpreter (a peer's venv Python)."""

    def __init__(self, python: Path, folder: Path, env: dict[str, str]) -> None:
        specs = folder / "kernelspecs"
        (specs / "bench").mkdir(parents=True, exist_ok=True)
        spec = {
            "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "bench",
            "language": "python",
        }
        (specs / "bench" / "kernel.json").write_text(json.dumps(spec))
        sockets = str(folder / f"kernel-{id(self)}")  # IPC, as bench/magic.py
        self.manager = KernelManager(
            kernel_name="bench",
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs)]),
            transport="ipc",
            ip=sockets,
        )
        self.manager.start_kernel(cwd=str(folder), env=env)
        self.client = self.manager.blocking_client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)
        self.run(CELL_TIMER)

    def run(self, code: str, timeout: float = 600) -> str:
        """Execute one cell; its stdout. Unlike bench/magic.py's, the tracker's chatter on stderr is
        kept back (some print lines at every run) and shown only in the error of a failing cell."""
        out: list[str] = []
        err: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            kind, content = msg["header"]["msg_type"], msg["content"]
            if kind == "stream":
                (out if content["name"] == "stdout" else err).append(content["text"])
            elif kind == "error":
                err.append(f"{content['ename']}: {content['evalue']}")

        reply = self.client.execute_interactive(code, timeout=timeout, output_hook=hook)
        if reply["content"]["status"] != "ok":
            last = "".join(err).strip().splitlines()[-1:] or ["no error text"]
            raise RuntimeError(f"a cell failed in the kernel: {last[0][:200]}")
        return "".join(out)


def kernel_env(folder: Path, notebook: Notebook) -> dict[str, str]:
    """The kernel's environment: ours minus venv/store variables, a HOME of its own, the peer's env."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "JPY_", "NBTRACK_", "MLFLOW_", "WANDB_", "TRACKIO_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    home = folder / "home"
    home.mkdir(exist_ok=True)
    # git configured as on a user's machine (dvclive commits its experiment with it)
    (home / ".gitconfig").write_text("[user]\n\tname = bench\n\temail = bench@example.invalid\n")
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"), PYTHONHASHSEED="0")
    env["JPY_SESSION_NAME"] = str(folder / "bench.ipynb")
    store = folder / "store"
    store.mkdir(exist_ok=True)
    env.update({k: v.replace("{store}", str(store)) for k, v in notebook.env.items()})
    return env


def measure(python: Path, module: str, size: dict[str, int]) -> dict[str, Any]:
    """Workload (h) for one tracker: in-kernel cell times (ms) and versions of the kernel's IPython."""
    notebook = notebook_of(module)
    if notebook is None:
        raise ValueError(f"{module}.py declares no NOTEBOOK")
    n, warm = size["cells"], size["warmup"]
    counter = iter(range(2, 10**9))  # a0's values: never the same cell twice in a kernel

    def plain(count: int) -> list[str]:
        return edited(count, next(counter) * 10_000)

    def tracked(count: int) -> list[str]:
        return [notebook.tracked_cell(cell) for cell in plain(count)]

    with tempfile.TemporaryDirectory(prefix=f"nbtrack-cells-{module}-") as tmp:
        folder = Path(tmp)
        work_tree(folder)
        kernel = PeerKernel(python, folder, kernel_env(folder, notebook))
        try:
            versions = kernel.value(
                "import IPython as _ip, ipykernel as _ik\n"
                "print(_json.dumps([_ip.__version__, _ik.__version__]))"
            )
            kernel.timed(plain(warm))
            off_a = kernel.timed(plain(n))
            off_b = kernel.timed(plain(n))
            kernel.run(notebook.load)
            kernel.timed(plain(warm))
            kernel.run("_timer.install()")  # after hooks a tracker adds on the first cells it sees
            on = kernel.timed(plain(n))
            # bench/magic.py's figure 1f: nbtrack's own transformer and callbacks on those cells,
            # timed where they are registered (finds nothing to time in other trackers' kernels)
            kernel.run("_phases.wrap()")
            kernel.timed(plain(n))
            phases: dict[str, list[float]] = kernel.value("_phases.take()")
            kernel.run("_phases.unwrap()")
            kernel.timed(tracked(warm))
            kernel.run("_timer.install()")  # after hooks a tracker adds on its first runs
            track = kernel.timed(tracked(n))
            after = kernel.timed(plain(n))  # hooks a tracker left behind after its runs
        finally:
            kernel.close()

    def p(values: list[float], q: float = 50) -> float:
        return pct(values, q) * 1e3

    off = off_a + off_b
    return {
        "plain_p50": p(off),
        "plain_p95": p(off, 95),
        "noise": abs(p(off_a) - p(off_b)),
        "tracked_p50": p(track),
        "tracked_p95": p(track, 95),
        "extra_p50": p(track) - p(off),
        "extra_p95": p(track, 95) - p(off),
        "loaded_p50": p(on),
        "loaded_extra": p(on) - p(off),
        "after_extra": p(after) - p(off),
        "hooks_p50": sum(p(times) for times in phases.values()) if phases else None,
        "ipython": versions[0],
        "ipykernel": versions[1],
        "cells": n,
    }
