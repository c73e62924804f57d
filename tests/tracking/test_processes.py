"""Several processes, one store; and a process killed mid-run. Real processes, real SQLite file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import nbtrack
from nbtrack.api import Session
from nbtrack.model import Status

pytestmark = pytest.mark.slow


def _python(code: str, store: Path, **popen: object) -> subprocess.Popen[str]:
    env = {**os.environ, "NBTRACK_STORE": str(store), "NBTRACK_FLUSH_INTERVAL": "0.2"}
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", textwrap.dedent(code)], env=env, text=True, **popen
    )


def test_four_processes_logging_at_once_lose_no_point(session: Session, store_path: Path) -> None:
    nbtrack.runs()  # create the store first, as a user's first run would
    code = """
        import sys, nbtrack
        sys.stdin.readline()  # start together
        with nbtrack.start_run(name=sys.argv[-1] if len(sys.argv) > 1 else "w") as run:
            for step in range(20_000):
                run.log(step=step, loss=step * 0.5, acc=1.0)
        print(run.seq)
    """
    procs = [_python(code, store_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(4)]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    seqs = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        seqs.append(int(out.strip()))
    assert sorted(seqs) == [1, 2, 3, 4]
    frame = nbtrack.runs()
    assert set(frame["status"]) == {"FINISHED"}
    expected = np.arange(20_000)
    for seq in seqs:
        record = nbtrack.get_run(seq)
        for key in ("loss", "acc"):
            points = record.points(key)
            assert len(points) == 20_000
            assert np.array_equal(np.sort(points.steps), expected)
        assert record.summaries["loss"].last == 19_999 * 0.5


def test_killed_process_is_crashed_and_keeps_points_logged_a_second_before(
    session: Session, store_path: Path
) -> None:
    code = """
        import sys, time, nbtrack
        run = nbtrack.start_run(name="doomed")
        print("seq", run.seq, flush=True)
        step = 0
        while True:
            for _ in range(200):
                run.log(step=step, loss=float(step))
                step += 1
            print(step - 1, time.time(), flush=True)
            time.sleep(0.01)
    """
    proc = _python(code, store_path, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    first = proc.stdout.readline().split()
    seq = int(first[1])
    progress: list[tuple[int, float]] = []
    started = time.time()
    while time.time() - started < 2.5:
        step, when = proc.stdout.readline().split()
        progress.append((int(step), float(when)))
    killed_at = time.time()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()

    must_have = max(step for step, when in progress if when <= killed_at - 1.0)
    record = nbtrack.get_run(seq)
    assert record.status is Status.CRASHED
    assert record.info.end_time is not None
    steps = record.points("loss").steps
    assert np.array_equal(steps[: must_have + 1], np.arange(must_have + 1))
    assert len(nbtrack.runs(filter="status = 'RUNNING'")) == 0


def test_interpreter_exit_flushes_and_ends_an_open_run(session: Session, store_path: Path) -> None:
    code = """
        import nbtrack
        run = nbtrack.start_run(name="left open")
        for i in range(50_000):
            run.log(loss=float(i))
        print(run.seq)
    """
    proc = _python(code, store_path, stdout=subprocess.PIPE)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    record = nbtrack.get_run(int(out))
    assert record.status is Status.FINISHED
    assert record.summaries["loss"].count == 50_000


def test_uncaught_exception_at_exit_records_failed(session: Session, store_path: Path) -> None:
    code = """
        import nbtrack
        run = nbtrack.start_run()
        print(run.seq, flush=True)
        run.log(loss=1.0)
        raise RuntimeError("boom in the script")
    """
    proc = _python(code, store_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "boom in the script" in err
    record = nbtrack.get_run(int(out))
    assert record.status is Status.FAILED
    assert record.info.error is not None
    assert "boom in the script" in record.info.error
    assert record.metrics == {"loss": 1.0}
