"""Fixtures for the command-line tests: run ``nbtrack`` in-process or in a subprocess, and sample runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import nbtrack
from nbtrack.api import Session
from nbtrack.cli import main

from .support import CliRunner, Result


@pytest.fixture
def cli(session: Session, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Run ``nbtrack ARGS...`` in this process, on the test's store, with a 200-column terminal."""
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def cli_process(session: Session, store_path: Path) -> CliRunner:
    """Run ``python -m nbtrack.cli ARGS...`` in a subprocess with NBTRACK_STORE set to the test's store."""

    def run(*args: str, **env: str) -> Result:
        environ = {**os.environ, "NBTRACK_STORE": str(store_path), "COLUMNS": "200", **env}
        done = subprocess.run(
            [sys.executable, "-m", "nbtrack.cli", *args],
            capture_output=True,
            text=True,
            env=environ,
            timeout=60,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def three_runs(session: Session) -> list[nbtrack.Run]:
    """#1 baseline (mnist, acc 0.80), #2 wide (mnist, acc 0.92), #3 tiny (cifar, acc 0.85)."""
    made = []
    for name, experiment, lr, optimizer, acc in (
        ("baseline", "mnist", 0.1, "sgd", 0.80),
        ("wide", "mnist", 0.01, "adam", 0.92),
        ("tiny", "cifar", 0.001, "adam", 0.85),
    ):
        params = {"lr": lr, "optimizer": optimizer, "batch_size": 32}
        with nbtrack.start_run(name=name, experiment=experiment, params=params) as run:
            for step in range(5):
                run.log(step=step, acc=acc * (step + 1) / 5, loss=1.0 / (step + 1))
            run.set_tags(stage="dev")
        made.append(run)
    return made
