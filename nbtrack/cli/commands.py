"""The ``ls``, ``show``, ``export``, ``rm`` and ``gc`` commands.

Each command takes the parsed arguments and the stream to write to, and returns the exit status.
Tables and reports go to ``out``; hints meant for a person (columns left out, more runs exist) go to
standard error so that ``out`` stays clean for pipes. pandas and SQLAlchemy are imported inside the
commands, so ``nbtrack --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from nbtrack.cli.render import (
    Column,
    fit_columns,
    format_value,
    human_duration,
    human_size,
    is_missing,
    is_number,
    local_time,
    plural,
    printable,
    relative_time,
    render_pairs,
    render_table,
)
from nbtrack.errors import NbtrackError, StoreError

if TYPE_CHECKING:
    import pandas as pd

    from nbtrack.query.records import RunRecord
    from nbtrack.store.store import Store

BASE_HEADERS = ("#", "name", "experiment", "status", "start", "duration")
EXTRA_PREFIXES = ("params.", "metrics.", "tags.")
FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}
PARQUET_HINT = "pip install 'nbtrack[parquet]'"


class CommandError(NbtrackError):
    """A command could not do what was asked (the message says why and what to do instead)."""


# -- the store ------------------------------------------------------------------------------------


def store_url(args: argparse.Namespace) -> str:
    """The URL of the store the command works on: ``--store``, else configured, else discovered."""
    from nbtrack import api
    from nbtrack.store.engine import as_store_url, discover_store_url

    return as_store_url(args.store) if args.store else discover_store_url(api.session().config.store)


def store_missing(url: str) -> bool:
    """True when ``url`` names a SQLite file that does not exist (reading must not create it)."""
    from nbtrack.store.engine import sqlite_path

    path = sqlite_path(url)
    return path is not None and not path.exists()


def open_store(args: argparse.Namespace) -> Store:
    """The command's store, opened and reconciled; a StoreError if there is none yet."""
    from nbtrack import api
    from nbtrack.store.engine import display_url

    url = store_url(args)
    if store_missing(url):
        raise StoreError(
            f"there is no nbtrack store at {display_url(url)} yet: the first tracked run creates "
            "it (use --store or NBTRACK_STORE to work on another store)"
        )
    return api.session().reconciled(url)


# -- ls -------------------------------------------------------------------------------------------


def ls(args: argparse.Namespace, out: TextIO) -> int:
    """List runs as a fixed-width table, newest first."""
    import shutil

    from nbtrack import api
    from nbtrack.store.engine import display_url

    url = store_url(args)
    if store_missing(url):
        out.write(f"no runs yet in {display_url(url)}\n")
        return 0
    limit: int | None = args.limit or None
    frame = api.runs(
        args.filter,
        args.experiment,
        args.order_by,
        None if limit is None else limit + 1,
        store=url,
    )
    if frame.empty:
        if args.filter or args.experiment:
            out.write(f"no runs match in the store at {display_url(url)}\n")
        else:
            out.write(f"no runs yet in {display_url(url)}\n")
        return 0
    hints = []
    if limit is not None and len(frame) > limit:
        frame = frame.iloc[:limit]
        hints.append(f"showing the first {plural(limit, 'run')}: -n 0 shows all")
    records = cast("list[dict[str, Any]]", frame.to_dict("records"))
    columns = base_columns(records, time.time())
    extras, hidden = extra_columns(frame, records, args.columns, args.all_columns)
    columns.extend(extras)
    width = None if args.columns or args.all_columns else shutil.get_terminal_size().columns
    shown = fit_columns(columns, len(BASE_HEADERS), width)
    for line in render_table(columns[:shown]):
        out.write(line + "\n")
    if len(columns) > shown:
        hints.append(
            f"{plural(len(columns) - shown, 'more column')} did not fit: widen the terminal or use "
            "--columns / --all-columns"
        )
    if hidden:
        hints.append(f"{plural(hidden, 'column')} with the same value in every run: --all-columns shows them")
    for hint in hints:
        sys.stderr.write(f"({hint})\n")
    return 0


def base_columns(records: list[dict[str, Any]], now: float) -> list[Column]:
    """The run attribute columns of ``ls``: #seq, name, experiment, status, start, duration."""
    return [
        Column("#", [f"#{r['seq']}" for r in records], right=True),
        Column("name", [format_value(r["name"]) for r in records], max_width=24),
        Column("experiment", [format_value(r["experiment"]) for r in records], max_width=16),
        Column("status", [str(r["status"]) for r in records]),
        Column("start", [relative_time(r["start_time"].timestamp(), now) for r in records]),
        Column("duration", [human_duration(r["duration"]) for r in records], right=True),
    ]


def extra_columns(
    frame: pd.DataFrame, records: list[dict[str, Any]], wanted: str | None, show_all: bool
) -> tuple[list[Column], int]:
    """The param/metric/tag columns of ``ls``, and how many were hidden for being constant."""
    available = [c for c in frame.columns if c.startswith(EXTRA_PREFIXES)]
    if wanted:
        names = [resolve_column(name.strip(), list(frame.columns)) for name in wanted.split(",")]
        names = [n for n in dict.fromkeys(names) if n]
        hidden = 0
    elif show_all or len(records) < 2:
        names, hidden = available, 0
    else:
        names = [n for n in available if varies(r[n] for r in records)]
        hidden = len(available) - len(names)
    columns = []
    for name in names:
        values = [r[name] for r in records]
        present = [v for v in values if not is_missing(v)]
        right = bool(present) and all(is_number(v) for v in present)
        columns.append(Column(name, [format_value(v) for v in values], right=right))
    return columns, hidden


def resolve_column(name: str, columns: list[str]) -> str:
    """The frame column ``name`` means: an exact name, or a bare key matching one column."""
    if not name or name in columns:
        return name
    matches = [c for c in columns if c.startswith(EXTRA_PREFIXES) and c.split(".", 1)[1] == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise CommandError(f"column {name!r} is ambiguous: say which of {', '.join(matches)}")
    known = ", ".join(c for c in columns if c.startswith(EXTRA_PREFIXES)) or "none"
    raise CommandError(f"no column {name!r} among the listed runs (they have: {known})")


def varies(values: Any) -> bool:
    """True when the values are not all the same (missing values count as one value)."""
    seen = set()
    for value in values:
        seen.add(None if is_missing(value) else json.dumps(value, sort_keys=True, default=str))
        if len(seen) > 1:
            return True
    return False


# -- show -----------------------------------------------------------------------------------------


def show(args: argparse.Namespace, out: TextIO) -> int:
    """Print everything about one run."""
    from nbtrack import api

    store = open_store(args)  # a clear error, rather than a new empty store, when there is none
    record = api.get_run(args.run, store=store.url)
    out.write("\n".join(describe_run(record, args.source, time.time())) + "\n")
    return 0


def describe_run(record: RunRecord, with_source: bool, now: float) -> list[str]:
    """The lines ``nbtrack show`` prints for one run."""
    info = record.info
    title = f"run #{info.seq}" + (f" {printable(info.name)!r}" if info.name else "")
    lines = [f"{title}  {info.status.value}"]
    attrs = [("id", info.run_id), ("experiment", info.experiment)]
    attrs.append(("started", f"{local_time(info.start_time)} ({relative_time(info.start_time, now)})"))
    if info.end_time is not None:
        attrs.append(("ended", local_time(info.end_time)))
    attrs.append(("duration", human_duration(info.duration)))
    if info.notebook:
        cell = f" (cell {info.cell_id})" if info.cell_id else ""
        count = f" [{info.execution_count}]" if info.execution_count is not None else ""
        attrs.append(("notebook", f"{info.notebook}{cell}{count}"))
    if info.git_commit:
        attrs.append(("git", info.git_commit + (" (dirty)" if info.git_dirty else "")))
    if info.host:
        attrs.append(("host", info.host + (f" (pid {info.pid})" if info.pid else "")))
    if info.user:
        attrs.append(("user", info.user))
    lines += render_pairs(attrs)
    if record.params:
        lines += ["", "params"]
        lines += render_pairs([(key, format_value(value)) for key, value in sorted(record.params.items())])
    if record.summaries:
        lines += ["", "metrics"]
        table = [
            Column("  key", [f"  {key}" for key in sorted(record.summaries)], max_width=40),
        ]
        sums = [record.summaries[key] for key in sorted(record.summaries)]
        for header, attr in (("last", "last"), ("min", "min"), ("max", "max")):
            table.append(Column(header, [format_value(getattr(s, attr)) for s in sums], right=True))
        table.append(Column("count", [str(s.count) for s in sums], right=True))
        table.append(Column("last step", [str(s.last_step) for s in sums], right=True))
        lines += render_table(table)
    if record.tags:
        lines += ["", "tags"]
        lines += render_pairs(sorted(record.tags.items()))
    if record.notes:
        lines += ["", "notes"]
        for note in record.notes:
            lines += ["  " + line for line in printable(note, keep_newlines=True).splitlines()]
    if record.artifacts:
        lines += ["", "artifacts"]
        lines += render_pairs(
            [(a.name, f"{human_size(a.size)}  {a.mime}  sha256:{a.sha256[:12]}") for a in record.artifacts]
        )
    if info.error:
        lines += ["", "error"]
        lines += ["  " + line for line in printable(info.error, keep_newlines=True).splitlines()]
    if with_source and info.source:
        lines += ["", "source"]
        lines += ["  " + line for line in printable(info.source, keep_newlines=True).splitlines()]
    return lines


# -- export ---------------------------------------------------------------------------------------


def export(args: argparse.Namespace, out: TextIO) -> int:
    """Write the runs table as CSV, JSON or Parquet, to a file or standard output."""
    from nbtrack import api

    output = None if args.output in (None, "-") else Path(args.output)
    fmt = args.format or export_format(output)
    if fmt == "parquet":
        if output is None:
            raise CommandError("Parquet is a binary format: give a file with -o FILE.parquet")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise CommandError(
                f"writing Parquet needs pyarrow, which is not installed: {PARQUET_HINT}"
            ) from None
    store = open_store(args)
    frame = api.runs(args.filter, args.experiment, store=store.url)
    if fmt == "parquet":
        data: str | bytes = flatten_for_export(frame).to_parquet(index=False)
    elif fmt == "json":
        data = frame.to_json(orient="records", date_format="iso", date_unit="ms") + "\n"
    else:
        data = flatten_for_export(frame).to_csv(index=False)
    if output is None:
        out.write(str(data))
        return 0
    try:
        if isinstance(data, bytes):
            output.write_bytes(data)
        else:
            output.write_text(data, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from exc
    sys.stderr.write(f"wrote {plural(len(frame), 'run')} to {output} ({fmt})\n")
    return 0


def export_format(output: Path | None) -> str:
    """The format a file name asks for (csv for standard output)."""
    if output is None:
        return "csv"
    fmt = FORMATS.get(output.suffix.lower())
    if fmt is None:
        raise CommandError(
            f"cannot tell the format from {output.name!r}: name it .csv, .json or .parquet, or give --format"
        )
    return fmt


def flatten_for_export(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy where lists/dicts and mixed-type params are JSON text, so CSV/Parquet keep them."""
    flat = frame.copy()
    for name in flat.columns:
        if flat[name].dtype != object:
            continue
        present = [v for v in flat[name] if not is_missing(v)]
        kinds = {type(v) for v in present}
        if len(kinds) > 1 and kinds <= {int, float}:
            flat[name] = [None if is_missing(v) else float(v) for v in flat[name]]
        elif len(kinds) > 1 or kinds & {list, dict, tuple}:
            flat[name] = [
                None if is_missing(v) else (v if isinstance(v, str) else json.dumps(v)) for v in flat[name]
            ]
    return flat


# -- rm, gc ---------------------------------------------------------------------------------------


def rm(args: argparse.Namespace, out: TextIO) -> int:
    """Delete runs (all or none: every RUN is looked up before anything is deleted)."""
    from nbtrack import api
    from nbtrack.model import Status
    from nbtrack.store.writes import delete_runs

    store = open_store(args)
    records: dict[str, RunRecord] = {}
    for ref in args.runs:
        record = api.get_run(ref, store=store.url)
        records.setdefault(record.run_id, record)
    running = [r for r in records.values() if r.status is Status.RUNNING]
    if running and not args.force:
        listing = ", ".join(f"#{r.seq}" for r in running)
        raise CommandError(
            f"runs {listing} are still RUNNING: stop them first, or add --force to delete them anyway"
        )
    verb = "would remove" if args.dry_run else "removed"
    if not args.dry_run:
        delete_runs(store, records)
    for record in sorted(records.values(), key=lambda r: r.seq):
        label = f" {printable(record.name)!r}" if record.name else ""
        out.write(f"{verb} run #{record.seq}{label} ({record.experiment}, {record.status.value})\n")
    if any(r.artifacts for r in records.values()) and not args.dry_run:
        sys.stderr.write("(their artifact files stay until `nbtrack gc`)\n")
    return 0


def gc(args: argparse.Namespace, out: TextIO) -> int:
    """Delete artifact files no run refers to, and say how much space that freed."""
    from nbtrack.store.maintenance import collect_garbage

    store = open_store(args)
    report = collect_garbage(store, dry_run=args.dry_run)
    files = plural(len(report.removed), "orphaned artifact file")
    size = human_size(report.bytes_freed)
    if report.dry_run:
        for sha in report.removed:
            out.write(f"would remove {sha[:2]}/{sha}\n")
        out.write(f"would remove {files}, freeing {size}\n")
        if report.running:
            listing = ", ".join(f"#{seq}" for seq in report.running)
            sys.stderr.write(f"(gc itself waits until runs {listing} have ended)\n")
    else:
        out.write(f"removed {files}, freed {size}\n")
    return 0
