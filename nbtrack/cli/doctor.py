"""The ``doctor`` command: which store, found how, and is it healthy — with a fix for each problem.

The checks themselves live in :mod:`nbtrack.store.maintenance` (they read the store without opening it
the usual way, so a damaged or newer store is diagnosed instead of refused); this module words them.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from nbtrack.cli.render import human_duration, human_size, plural, render_pairs

STATUS_ORDER = ("RUNNING", "FINISHED", "FAILED", "INTERRUPTED", "CRASHED")


def doctor(args: argparse.Namespace, out: TextIO) -> int:
    """Check the store; exit status 0 when healthy, 1 when a problem was found."""
    from nbtrack import api
    from nbtrack.config import ENV_ARTIFACTS, ENV_STORE
    from nbtrack.store.engine import display_url
    from nbtrack.store.maintenance import check_store, explain_store_location
    from nbtrack.store.store import default_artifact_root

    config = api.session().config
    if args.store:
        location = explain_store_location(args.store, configured_by="the --store option")
    else:
        location = explain_store_location(config.store, configured_by=f"the {ENV_STORE} environment variable")
    root = config.artifacts or default_artifact_root(location.url)
    root_how = f"set by {ENV_ARTIFACTS}" if config.artifacts else "the default, beside the store"
    report = check_store(location.url, root, config.crash_timeout, config.busy_timeout)

    pairs = [("store", f"{display_url(location.url)}\n({location.how})")]
    if report.revision is not None:
        pairs.append(("schema", f"revision {report.revision!r} (this nbtrack: {report.head_revision!r})"))
    if report.journal_mode is not None:
        pairs.append(("journal mode", report.journal_mode))
    if report.integrity is not None:
        pairs.append(("integrity", "; ".join(report.integrity[:3])))
    if report.status_counts is not None:
        total = sum(report.status_counts.values())
        by_status = ", ".join(
            f"{report.status_counts[s]} {s}" for s in STATUS_ORDER if s in report.status_counts
        )
        pairs.append(("runs", f"{total}" + (f": {by_status}" if by_status else "")))
        running = [
            f"#{r.seq} on {r.host or '?'} (pid {r.pid or '?'}), last heartbeat "
            f"{human_duration(r.heartbeat_age)} ago" + ("" if r.alive else " - process gone")
            for r in report.running
        ]
        pairs.append(("running", "\n".join(running) or "none"))
    pairs.append(("artifacts", f"{root}\n({root_how})"))
    if report.stored_artifacts is not None:
        pairs.append(
            (
                "files",
                f"{report.stored_artifacts} stored, {len(report.missing_artifacts)} missing, "
                f"{len(report.orphaned_artifacts)} orphaned ({human_size(report.orphaned_bytes)})",
            )
        )
    lines = render_pairs(pairs, indent="")
    for note in report.notes:
        lines += ["", f"note: {note}"]
    for problem in report.problems:
        lines += ["", f"problem: {problem.what}", f"  what to do: {problem.fix}"]
    count = len(report.problems)
    lines += ["", "healthy: no problems found" if report.healthy else f"{plural(count, 'problem')} found"]
    out.write("\n".join(lines) + "\n")
    return 0 if report.healthy else 1
