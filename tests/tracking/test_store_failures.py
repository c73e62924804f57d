"""The writer when the store misbehaves: retried without loss, bounded memory, clear errors."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

import nbtrack
from nbtrack.errors import NbtrackError, StoreError
from nbtrack.testing import isolated_session


def _wait_until(predicate: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_points_logged_while_the_store_is_locked_are_retried_without_loss(
    store_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with isolated_session(store_path, busy_timeout=0.1, flush_interval=0.05) as s:
        run = s.tracker.start_run()
        blocker = sqlite3.connect(store_path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        for i in range(1000):
            run.log(loss=float(i))
        assert _wait_until(lambda: s.tracker.writer.failing is not None)
        assert "kept in memory and retried" in caplog.text
        for i in range(1000, 2000):
            run.log(loss=float(i))
        blocker.execute("ROLLBACK")
        blocker.close()
        run.end()
        points = nbtrack.get_run(run.seq).points("loss")
        assert points.values.tolist() == [float(i) for i in range(2000)]
        assert points.steps.tolist() == list(range(2000))


def test_end_while_the_store_is_locked_raises_store_error_then_succeeds_later(
    store_path: Path,
) -> None:
    with isolated_session(store_path, busy_timeout=0.1, flush_interval=30) as s:
        run = s.tracker.start_run()
        run.log(loss=1.0)
        blocker = sqlite3.connect(store_path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreError, match=r"nbtrack\.db.*locked"):
            run.end()
        blocker.execute("ROLLBACK")
        blocker.close()
        s.tracker.writer.flush()  # the pending end and point are retried
        record = nbtrack.get_run(run.seq)
        assert record.status.value == "FINISHED"
        assert record.metrics == {"loss": 1.0}


def test_a_failing_store_never_blocks_logging_and_memory_stays_bounded(store_path: Path) -> None:
    with isolated_session(store_path, busy_timeout=0.05, flush_interval=0.05, max_buffered_points=5000) as s:
        run = s.tracker.start_run()
        blocker = sqlite3.connect(store_path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        run.log(x=0.0)
        assert _wait_until(lambda: s.tracker.writer.failing is not None)
        started = time.monotonic()
        peak = 0
        for i in range(50_000):
            run.log(x=float(i))
            peak = max(peak, run._sink.buffered())
        assert time.monotonic() - started < 5  # never waits on the broken store
        assert peak <= 5000
        blocker.execute("ROLLBACK")
        blocker.close()
        with pytest.raises(NbtrackError, match="could not be kept"):
            run.end()
        kept = nbtrack.get_run(run.seq).summaries["x"]
        assert kept.count + run._sink.dropped == 50_001
        assert kept.last == 49_999.0  # the newest points are the ones kept
