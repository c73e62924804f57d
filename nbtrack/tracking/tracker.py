"""The tracker: one per process (or shell) — its config, stores, background writer and active runs.

No module-level mutable state: the process default lives on :class:`Tracker` instances that tests can
create fresh. At interpreter exit the tracker ends runs still open (FAILED if an uncaught exception is
ending the process) and flushes the writer, so nothing logged is lost.
"""

from __future__ import annotations

import atexit
import functools
import getpass
import os
import secrets
import socket
import sys
import threading
import time
import weakref
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from nbtrack.config import NbtrackConfig
from nbtrack.errors import RunStateError
from nbtrack.model import Status
from nbtrack.store.engine import discover_store_url
from nbtrack.store.store import Store, StoreRegistry
from nbtrack.store.writes import create_run
from nbtrack.tracking.buffers import RunSink
from nbtrack.tracking.run import Run, exit_status
from nbtrack.tracking.writer import Writer

DEFAULT_EXPERIMENT = "default"
RUN_COLUMNS = frozenset(
    {
        "source",
        "notebook",
        "cell_id",
        "execution_count",
        "git_commit",
        "git_dirty",
        "context",
        "user",
    }
)


def new_run_id() -> str:
    """A unique run id that sorts by creation time: 12 hex digits of milliseconds + 20 random."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(10)}"


class Tracker:
    """Starts runs, knows the active one, and owns the process's background writer."""

    def __init__(self, config: NbtrackConfig | None = None, registry: StoreRegistry | None = None) -> None:
        self.config = config or NbtrackConfig.from_environment()
        self.registry = registry or StoreRegistry()
        self._writer: Writer | None = None
        self._active: list[Run] = []
        self._lock = threading.Lock()
        self._uncaught: BaseException | None = None
        ref = weakref.ref(self)

        def close_at_exit() -> None:
            tracker = ref()
            if tracker is not None:
                tracker.close()

        atexit.register(close_at_exit)

    @property
    def writer(self) -> Writer:
        """The background writer (created on first use)."""
        if self._writer is None:
            self._writer = Writer(
                self.config.flush_interval,
                self.config.heartbeat_interval,
                self.config.max_buffered_points,
            )
        return self._writer

    @property
    def writer_if_started(self) -> Writer | None:
        """The background writer if this tracker has started one (never creates it)."""
        return self._writer

    def store_url(self) -> str:
        """The URL of the store this tracker writes to (configured, else discovered)."""
        return discover_store_url(self.config.store)

    def store(self) -> Store:
        """The opened store this tracker writes to."""
        return self.registry.get(self.store_url(), self.config.artifacts, self.config.busy_timeout)

    # -- runs --------------------------------------------------------------------------------
    def start_run(
        self,
        name: str | None = None,
        experiment: str | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        background: bool = False,
        **attributes: Any,
    ) -> Run:
        """Create a RUNNING run in the store and make it the active run.

        With ``background`` the writer thread creates the row in its next transaction, so the caller
        does no store I/O; the run's number is one reserved ahead (``nbtrack.store.reservation``), or
        else ``run.seq`` waits for the row. ``%%track`` starts runs this way.
        """
        unknown = set(attributes) - RUN_COLUMNS
        if unknown:
            raise TypeError(f"start_run() got unexpected arguments: {', '.join(sorted(unknown))}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"a run name must be a string, got {type(name).__name__}")
        experiment = experiment or DEFAULT_EXPERIMENT
        store = self.store()
        now = time.time()
        run_id = new_run_id()
        row = {
            "run_id": run_id,
            "name": name,
            "start_time": now,
            "heartbeat": now,
            "host": _host(),
            "pid": os.getpid(),
            "user": _user(),
            **attributes,
        }
        sink = RunSink(store, run_id)
        if background:
            # Written by the writer's next periodic flush (a crash after that leaves the run and its
            # params), or sooner by whoever needs the row: a short cell's end then writes the run
            # whole, in one transaction, with nothing competing with the cell for the interpreter.
            sink.seq = row["seq"] = store.reserved_seqs.take()  # None: the number comes with the row
            self.writer.submit(sink, "create", (row, experiment))  # before register: see Writer._write
            self.writer.register(sink)
            if sink.seq is not None and store.reserved_seqs.low():
                self.writer.wake()  # take more numbers in the background before they run out
        else:
            with self.writer.exclusive():  # wait for our own writer on a lock, not in SQLite's busy backoff
                sink.seq = create_run(store, row, experiment)
            sink.experiment_id = store.experiment_ids.get(experiment)  # set by a successful create_run
            sink.created.set()
            self.writer.register(sink)
        run = Run(self, sink, name=name, experiment=experiment, start_time=now)
        with self._lock:
            self._active.append(run)
        self._install_excepthook()
        if params:
            run.log_params(params)
        if tags:
            run.set_tags(tags)
        return run

    @property
    def active_run(self) -> Run | None:
        """The most recently started run that has not ended."""
        with self._lock:
            return self._active[-1] if self._active else None

    def require_active(self) -> Run:
        """The active run, or a RunStateError explaining how to start one."""
        run = self.active_run
        if run is None:
            raise RunStateError("no active run: use `with nbtrack.start_run():` or put %%track on the cell")
        return run

    def forget(self, run: Run) -> None:
        """Called by a run as it ends: it is no longer active."""
        with self._lock:
            if run in self._active:
                self._active.remove(run)

    # -- process exit --------------------------------------------------------------------------
    def _install_excepthook(self) -> None:
        if getattr(sys.excepthook, "_nbtrack", False):
            return
        previous = sys.excepthook
        ref = weakref.ref(self)

        def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
            tracker = ref()
            if tracker is not None:
                tracker._uncaught = exc
            previous(exc_type, exc, tb)

        hook._nbtrack = True  # type: ignore[attr-defined]
        sys.excepthook = hook

    def close(self) -> None:
        """End runs still open (honest status) and flush the writer; used at interpreter exit."""
        status, error = exit_status(self._uncaught)
        if status is Status.FAILED and error:
            error = "the process ended with an uncaught exception:\n" + error
        for run in list(self._active):
            run.queue_end(status, error)
        if self._writer is not None:
            self._writer.close()


@functools.cache
def _host() -> str:
    """This machine's host name (looked up once)."""
    return socket.gethostname()


@functools.cache
def _user() -> str | None:
    """The user running this process (looked up once: a password-database lookup is not free)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None
