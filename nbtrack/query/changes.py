"""What changed since a client last looked: a cursor over run times and metric writes, for polling views.

The cursor is the latest time the store records anything at (a run's start, end or heartbeat, a metric's
last write) plus the number of runs, so a poll returns the runs touched since and says when runs were
deleted (the count went down without a newer time explaining it) so the view reloads its list.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from nbtrack.store import schema as t
from nbtrack.store.store import Store

MAX_CHANGED = 500


@dataclass(frozen=True)
class Changes:
    """Run ids touched after the previous cursor, the new cursor, and whether runs were deleted."""

    cursor: str
    run_ids: list[str]
    deleted: bool


def parse_cursor(cursor: str | None) -> tuple[float, int] | None:
    """``"<time>:<count>"`` as numbers; None for a first poll; ValueError for anything else."""
    if not cursor:
        return None
    when, sep, count = cursor.partition(":")
    try:
        if not sep:
            raise ValueError
        return float(when), int(count)
    except ValueError:
        raise ValueError(f"not a changes cursor: {cursor!r} (pass back the cursor a poll returned)") from None


def changes_since(store: Store, cursor: str | None) -> Changes:
    """The runs created, ended, beating or logging since ``cursor`` (all runs' ids on a first poll: none)."""
    since = parse_cursor(cursor)
    r, m = t.runs.c, t.metric_summaries.c
    with store.read() as conn:
        latest_run, ends, beats, count = conn.execute(
            sa.select(
                sa.func.max(r.start_time), sa.func.max(r.end_time), sa.func.max(r.heartbeat), sa.func.count()
            )
        ).one()
        latest_metric = conn.execute(sa.select(sa.func.max(m.last_time))).scalar()
        now = max(x for x in (latest_run, ends, beats, latest_metric, 0.0) if x is not None)
        new_cursor = f"{now!r}:{count}"
        if since is None:
            return Changes(new_cursor, [], False)
        when, before = since
        touched = (
            sa.select(r.run_id)
            .where(sa.or_(r.start_time > when, r.end_time > when, r.heartbeat > when))
            .union(sa.select(m.run_id).where(m.last_time > when))
            .limit(MAX_CHANGED)
        )
        run_ids = [row[0] for row in conn.execute(touched)]
        created = conn.execute(sa.select(sa.func.count()).where(r.start_time > when)).scalar_one()
    # fewer runs than the earlier ones plus those started since: some were deleted in between
    return Changes(new_cursor, run_ids, count < before + created)
