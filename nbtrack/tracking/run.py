"""A run's life: start → log → end with an honest status.

``with nbtrack.start_run(...) as run:`` ends FINISHED on normal exit, FAILED (traceback kept) when an
exception leaves the block, INTERRUPTED on KeyboardInterrupt — and the exception still propagates.
Everything a run records goes through the process's background writer; only start and end touch the
store on the caller's thread (end waits until everything logged is persisted).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping
from os import PathLike, fspath
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from nbtrack.errors import NbtrackError, RunStateError
from nbtrack.model import ParamOrigin, Status
from nbtrack.store.artifacts import guess_mime
from nbtrack.store.values import encode_param
from nbtrack.tracking.buffers import RunSink
from nbtrack.tracking.values import merged, metric_value, step_value
from nbtrack.tracking.writer import Writer

if TYPE_CHECKING:
    from nbtrack.tracking.tracker import Tracker

_now = time.time
_MIN_STEP, _MAX_STEP = -(2**63), 2**63 - 1
_ATTRIBUTE_COLUMNS = frozenset(
    {"name", "source", "notebook", "cell_id", "execution_count", "git_commit", "git_dirty", "context"}
)


class Run:
    """One tracked run. Use as a context manager, or call :meth:`end` yourself."""

    def __init__(
        self,
        tracker: Tracker,
        sink: RunSink,
        *,
        name: str | None,
        experiment: str,
        start_time: float,
    ) -> None:
        self.id = sink.run_id
        self.name = name
        self.experiment = experiment
        self.start_time = start_time
        self.end_time: float | None = None
        self.error_line: str | None = None  # last line of the traceback of a FAILED/INTERRUPTED run
        self.status = Status.RUNNING
        self._tracker = tracker
        self._sink = sink
        self._writer: Writer = tracker.writer
        self._wake_at = self._writer.wake_at
        self._buffers = sink.buffers
        self._open = True

    @property
    def sink(self) -> RunSink:
        """The run's buffers and writer-side state (for the writer and its callers)."""
        return self._sink

    @property
    def seq(self) -> int:
        """The run's number in its store; a run started in the background waits here for its row."""
        seq = self._sink.seq
        return seq if seq is not None else self._writer.wait_created(self._sink)

    @property
    def run_id(self) -> str:
        """The unique, time-sortable id of this run (same as ``id``)."""
        return self.id

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<nbtrack Run #{self.seq}{label} {self.status.value} experiment={self.experiment!r}>"

    # -- logging (hot path) ------------------------------------------------------------------
    def log(self, metrics: Mapping[str, Any] | None = None, /, *, step: int | None = None, **kw: Any) -> None:
        """Log metric points (``run.log(loss=0.3, step=5)`` or ``run.log({"val/loss": 0.3})``).

        No I/O here: points are appended to the run's buffers for the background writer. Without
        ``step`` each key counts its own steps (one after its previous step, from 0).
        """
        if metrics:
            kw = merged(metrics, kw, "metric")
        elif not kw:
            return
        for key, value in kw.items():
            if value.__class__ is not float:
                kw[key] = metric_value(key, value)
        if step is not None and (step.__class__ is not int or not _MIN_STEP <= step <= _MAX_STEP):
            step = step_value(step)
        if not self._open:
            raise RunStateError(f"run #{self.seq} has ended ({self.status.value}); start a new run")
        ts = _now()
        buffers = self._buffers
        for key, value in kw.items():
            columns = buffers.get(key)
            if columns is None:
                columns = self._sink.columns_for(key)
            columns[0].append(step)  # this order (steps, values, times) is what the writer relies on
            columns[1].append(value)
            columns[2].append(ts)
            if len(ts_column := columns[2]) >= self._wake_at:
                self._writer.on_pressure(self._sink, ts_column)

    # -- other records ------------------------------------------------------------------------
    def log_params(
        self,
        params: Mapping[str, Any] | None = None,
        /,
        *,
        origin: ParamOrigin | str = ParamOrigin.EXPLICIT,
        **kw: Any,
    ) -> None:
        """Record params (typed; non-JSON values kept as repr with a warning)."""
        values = merged(params, kw, "param")
        origin = ParamOrigin(origin).value
        rows = []
        for key, value in values.items():
            enc = encode_param(key, value)
            rows.append(
                {
                    "run_id": self.id,
                    "key": key,
                    "value_json": enc.value_json,
                    "value_str": enc.value_str,
                    "value_num": enc.value_num,
                    "vtype": enc.vtype,
                    "origin": origin,
                }
            )
        self._submit("params", rows)

    def set_tags(self, tags: Mapping[str, Any] | None = None, /, **kw: Any) -> None:
        """Set tags (values kept as strings)."""
        values = merged(tags, kw, "tag")
        rows = [{"run_id": self.id, "key": k, "value": str(v)} for k, v in values.items()]
        self._submit("tags", rows)

    def note(self, text: str) -> None:
        """Attach a (markdown) note to the run."""
        if not isinstance(text, str):
            raise TypeError(f"a note must be a string, got {type(text).__name__}")
        self._submit("notes", [{"run_id": self.id, "created": _now(), "text": text}])

    def log_artifact(
        self,
        obj: str | PathLike[str] | bytes,
        name: str | None = None,
        *,
        mime: str | None = None,
    ) -> list[str]:
        """Store a file, a folder, or bytes/str content under ``name``; returns the stored names.

        A str is a path when it names an existing file or folder; otherwise, with ``name`` given, it is
        the content itself.
        """
        self._check_open()
        store = self._sink.store
        items: list[tuple[str, Any]] = []
        if isinstance(obj, (bytes, bytearray, memoryview)):
            if not name:
                raise ValueError("log_artifact(bytes) needs a name=")
            items.append((name, store.artifacts.put_bytes(bytes(obj))))
        else:
            path = Path(fspath(obj))
            if path.is_file():
                items.append((name or path.name, store.artifacts.put_file(path)))
            elif path.is_dir():
                prefix = name or path.name
                for file in sorted(p for p in path.rglob("*") if p.is_file()):
                    rel = file.relative_to(path).as_posix()
                    items.append((f"{prefix}/{rel}", store.artifacts.put_file(file)))
            elif isinstance(obj, str) and name:
                items.append((name, store.artifacts.put_bytes(obj.encode())))
            else:
                raise FileNotFoundError(
                    f"log_artifact: no file or folder at {fspath(obj)!r} "
                    "(to store text content, pass name=...)"
                )
        rows = [
            {
                "run_id": self.id,
                "name": item_name,
                "mime": mime or guess_mime(item_name),
                "size": blob.size,
                "sha256": blob.sha256,
                "uri": blob.uri,
                "created": _now(),
            }
            for item_name, blob in items
        ]
        self._submit("artifacts", rows)
        return [r["name"] for r in rows]

    def logged_keys(self) -> set[str]:
        """The metric keys logged into this run so far."""
        return set(self._sink.buffers) | set(self._sink.summary)

    def attach(self, name: str, data: bytes, mime: str) -> None:
        """Store ``data`` as artifact ``name`` from the background writer (no file I/O here)."""
        self._check_open()
        self._writer.submit(self._sink, "blobs", [(name, bytes(data), mime)])

    def set_attributes(self, **columns: Any) -> None:
        """Record run attributes learnt after the start (source, notebook, context...), in the background."""
        unknown = set(columns) - _ATTRIBUTE_COLUMNS
        if unknown:
            raise TypeError(f"unknown run attributes: {', '.join(sorted(unknown))}")
        if columns:
            self._writer.submit(self._sink, "attributes", [{"run_id": self.id, **columns}])

    def _submit(self, kind: str, rows: list[dict[str, Any]]) -> None:
        self._check_open()
        if rows:
            self._writer.submit(self._sink, kind, rows)

    def _check_open(self) -> None:
        if not self._open:
            raise RunStateError(f"run #{self.seq} has ended ({self.status.value}); start a new run")

    # -- end ---------------------------------------------------------------------------------
    def flush(self) -> None:
        """Persist everything logged so far, now."""
        self._writer.flush()

    def end(
        self, status: Status | str = Status.FINISHED, error: str | None = None, *, wait: bool = True
    ) -> None:
        """End the run with ``status`` and persist everything it logged; a second call does nothing.

        ``wait=False`` leaves the writing to the background writer's next flush (within the flush
        interval, together with whatever else is pending; reads in this process flush first, so they
        still see it).
        """
        if not self.queue_end(status, error):
            return
        if not wait:
            return
        self._writer.flush()
        if self._sink.dropped:
            raise NbtrackError(
                f"run #{self.seq}: {self._sink.dropped} logged points could not be kept while the "
                "store was failing"
            )

    def queue_end(self, status: Status | str, error: str | None = None) -> bool:
        """Mark the run ended and queue that for the writer, without waiting; False if already ended."""
        final = Status(status)
        if final is Status.RUNNING:
            raise ValueError("a run cannot end with status RUNNING")
        if not self._open:
            return False
        self._open = False
        self.status = final
        self.end_time = _now()
        if error:
            lines = [line for line in error.strip().splitlines() if line.strip()]
            self.error_line = lines[-1].strip() if lines else None
        self._writer.submit(
            self._sink,
            "end",
            {"run_id": self.id, "status": final.value, "end_time": self.end_time, "error": error},
        )
        self._tracker.forget(self)
        return True

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        status, error = exit_status(exc)
        self.end(status, error)


def exit_status(exc: BaseException | None) -> tuple[Status, str | None]:
    """The honest status for leaving a run by ``exc`` (None: normal exit), with the traceback text."""
    if exc is None:
        return Status.FINISHED, None
    if isinstance(exc, SystemExit) and exc.code in (0, None):
        return Status.FINISHED, None
    text = "".join(traceback.format_exception(exc))
    if isinstance(exc, KeyboardInterrupt):
        return Status.INTERRUPTED, text
    return Status.FAILED, text
