"""Crash detection: RUNNING runs whose process died are reported CRASHED, never left RUNNING.

A run is crashed when its process is gone (same host, pid not alive) or its heartbeat is older than the
crash timeout (any host). Reconciling happens on read and when the extension loads; a run that later
heartbeats again (a laptop that slept) is set back to RUNNING by the writer.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import sqlalchemy as sa

from nbtrack.model import Status
from nbtrack.store import schema as t
from nbtrack.store.store import Store


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists on this host and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    return not fields or fields[0] not in ("Z", "X")


_RUNNING = t.runs.c.status == Status.RUNNING.value
#: Built once: every read reconciles first, and building the statement cost a third of running it.
_RUNNING_RUNS = sa.select(
    t.runs.c.run_id, t.runs.c.host, t.runs.c.pid, t.runs.c.heartbeat, t.runs.c.start_time
).where(_RUNNING)


def reconcile_crashed(store: Store, crash_timeout: float, now: float | None = None) -> list[str]:
    """Mark RUNNING runs whose process died as CRASHED; return their run ids."""
    now = time.time() if now is None else now
    host = socket.gethostname()
    running = _RUNNING
    with store.read() as conn:
        rows = conn.execute(_RUNNING_RUNS).all()
    dead = [
        r
        for r in rows
        if (r.host == host and r.pid is not None and not pid_alive(r.pid))
        or now - (r.heartbeat or r.start_time) > crash_timeout
    ]
    if not dead:
        return []
    ids = [r.run_id for r in dead]
    with store.write() as conn:
        last_points = dict(
            conn.execute(
                sa.select(t.metric_summaries.c.run_id, sa.func.max(t.metric_summaries.c.last_time))
                .where(t.metric_summaries.c.run_id.in_(ids))
                .group_by(t.metric_summaries.c.run_id)
            ).all()
        )
        for r in dead:
            end = max(x for x in (r.start_time, r.heartbeat, last_points.get(r.run_id)) if x is not None)
            conn.execute(
                t.runs.update()
                .where(t.runs.c.run_id == r.run_id)
                .where(running)
                .values(status=Status.CRASHED.value, end_time=end)
            )
    return ids
