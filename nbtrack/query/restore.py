"""A run's cell, ready to run again: its ``%%track`` line and the values it read from earlier cells."""

from __future__ import annotations

import shlex

from nbtrack.query.records import RunRecord


def restored_code(record: RunRecord) -> str:
    """Run ``record``'s cell code, with the values it read from earlier cells set at the top."""
    args = record.info.context.get("track_args") or {}
    header = ["%%track"]
    if args.get("name"):
        header.append(shlex.quote(args["name"]))
    header += ["-e", shlex.quote(record.experiment)]
    for key, value in (args.get("tags") or {}).items():
        header += ["-t", shlex.quote(f"{key}={value}")]
    if args.get("params"):
        header += ["-p", ",".join(args["params"])]
    lines = [" ".join(header)]
    from_namespace = {k: v for k, v in record.params.items() if record.param_origins.get(k) == "namespace"}
    if from_namespace:
        lines.append(f"# values read from earlier cells when run #{record.seq} ran")
        lines += [f"{k} = {v!r}" for k, v in from_namespace.items() if k.isidentifier()]
    lines.append(record.info.source or "")
    return "\n".join(lines)
