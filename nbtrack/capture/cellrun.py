"""One tracked execution of a cell: everything nbtrack does just before and just after the user's code.

:meth:`CellRun.begin` analyses the cell (params by static analysis, never tracing), starts the run and
starts capturing outputs; :meth:`CellRun.finish` collects the metrics the cell left behind, stores the
captured outputs and context, and ends the run with an honest status. Both are called inside the
guard, so a failure here is a warning and never touches the user's code or its exception.
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nbtrack.capture import context as ctx
from nbtrack.capture.cellcode import CellAnalysis, analyse
from nbtrack.capture.guard import guarded, warn
from nbtrack.capture.namespace import as_number, bound_metrics, namespace_params, snapshot
from nbtrack.capture.outputs import Captured, OutputCapture
from nbtrack.capture.request import TrackRequest
from nbtrack.model import ParamOrigin, Status

if TYPE_CHECKING:
    from nbtrack.tracking.run import Run
    from nbtrack.tracking.tracker import Tracker

MAX_EXPR_KEY = 60


@dataclass
class Outcome:
    """How the user's code ended, as seen from outside it."""

    error: BaseException | None = None
    value: Any = None
    has_value: bool = False


class CellRun:
    """The tracking around one execution of a cell body."""

    def __init__(
        self,
        tracker: Tracker,
        shell: Any,
        request: TrackRequest,
        body: str,
        experiment: str | None = None,
        extra_tags: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        self.tracker = tracker
        self.shell = shell
        self.request = request
        self.body = body
        self.experiment = request.experiment or experiment
        self.extra_tags = extra_tags or {}
        self.code = code  # the body as Python, when IPython already transformed it
        self.clear_pending = False
        self.live: Any = None  # the cell's live chart, if the extension made one (see Controller)
        self.run: Run | None = None
        self.analysis: CellAnalysis | None = None
        self.params: dict[str, Any] = {}
        self._before: dict[str, Any] = {}
        self._capture: OutputCapture | None = None
        self._collector: ctx.ContextCollector | None = None
        self._started = 0.0
        self._rss0 = 0
        self.metric: tuple[str, float] | None = None
        self.place: dict[str, Any] = {}

    # -- before the user's code ---------------------------------------------------------------
    def begin(self) -> None:
        """Analyse the cell and start its run (call inside the guard)."""
        shell = self.shell
        try:
            code = self.code if self.code is not None else shell.transform_cell(self.body)
            self.code = code  # the magic path runs this same transformed code
            self.analysis = analyse(code)
        except SyntaxError:
            self.analysis = None  # warned about once the run exists (a store failure says enough)
        namespace = shell.user_ns
        analysis = self.analysis
        literal = dict(analysis.literal_params) if analysis else {}
        from_namespace = namespace_params(analysis.reads - set(literal), namespace) if analysis else {}
        self._before = snapshot(analysis.bound, namespace) if analysis else {}
        quick = ctx.quick_context(shell)
        notebook = quick.get("notebook")
        run = self.tracker.start_run(
            self.request.name,
            self.experiment or default_experiment(notebook),
            tags={**self.extra_tags, **self.request.tags} or None,
            source=self.body,
            notebook=notebook,
            cell_id=quick.get("cell_id"),
            execution_count=quick.get("execution_count"),
            context=json.dumps(quick, default=str),
            background=True,  # the writer creates the row while the cell runs: no store I/O here
        )
        self.run = run
        if analysis is None:
            warn("this cell does not parse, so no params or metrics were captured from it")
        self.params = {**from_namespace, **literal}
        if literal:
            run.log_params(literal, origin=ParamOrigin.LITERAL)
        if from_namespace:
            run.log_params(from_namespace, origin=ParamOrigin.NAMESPACE)
        self._quick = quick
        self.place = {"notebook": notebook, "cell_id": quick.get("cell_id")}
        self._collector = ctx.ContextCollector(shell)  # it finds the notebook's folder itself
        self._capture = OutputCapture(shell)
        self._capture.start()
        self._rss0 = ctx.peak_rss_bytes()
        self._started = time.perf_counter()

    # -- after the user's code ----------------------------------------------------------------
    def finish(self, outcome: Outcome) -> Status | None:
        """Record what the cell produced and end the run honestly; return the status (None: no run)."""
        run = self.run
        if run is None:
            return None
        wall = time.perf_counter() - self._started
        captured = self._stop_capture()
        self.clear_pending = captured is not None and captured.clear_pending
        if self.request.no_outputs:
            captured = None
        status, error_text = _status_of(outcome.error)
        with guarded("recording the cell's results"):
            self._record_results(run, outcome, captured)
        with guarded("recording the cell's context"):
            self._record_context(run, wall)
        run.end(status, error_text, wait=False)  # the writer saves it now, off the kernel's thread
        if self._collector is not None:
            self._collector.cell_ended()  # git and packages are read now, off the kernel's thread
        return status

    def _stop_capture(self) -> Captured | None:
        if self._capture is None:
            return None
        capture, self._capture = self._capture, None
        return capture.stop()

    def _record_results(self, run: Run, outcome: Outcome, captured: Captured | None) -> None:
        if captured is not None:
            for name, data, mime in captured.artifacts():
                run.attach(name, data, mime)
        analysis = self.analysis
        if analysis is None:
            return
        namespace = self.shell.user_ns
        explicit = {}
        for name in self.request.params:
            if name in namespace:
                explicit[name] = namespace[name]
            else:
                warn(f"--params {name}: no such variable after the cell ran; not recorded")
        if explicit:
            run.log_params(explicit, origin=ParamOrigin.EXPLICIT)
            self.params.update(explicit)
        logged = run.logged_keys()
        metrics = bound_metrics(
            analysis.bound,
            analysis.unconditional,
            self._before,
            namespace,
            completed=outcome.error is None,
            exclude=set(analysis.literal_params) | set(explicit) | logged,
        )
        primary: str | None = None
        if outcome.has_value and outcome.error is None:
            number = as_number(outcome.value)
            if number is not None:
                key = analysis.last_expr_name or _expr_key(analysis.last_expr)
                if key and key not in logged:
                    metrics[key] = number
                    primary = key
        if metrics:
            run.log(metrics, step=0)
        if primary is None and metrics:
            # a name the cell certainly assigned at top level says more than a loop counter
            certain = [k for k in metrics if k in analysis.unconditional]
            primary = certain[0] if certain else next(iter(metrics))
        if primary is not None:
            self.metric = (primary, metrics[primary])

    def _record_context(self, run: Run, wall: float) -> None:
        extra = {
            **self._quick,
            "wall_time": wall,
            "peak_rss_growth": max(0, ctx.peak_rss_bytes() - self._rss0),
            "track_args": {
                "name": self.request.name,
                "experiment": self.request.experiment,
                "tags": self.request.tags,
                "params": list(self.request.params),
            },
        }
        slow = self._collector.result(timeout=0.0) if self._collector is not None else None
        if slow is not None:
            apply_slow_context(run, extra, slow)
        else:
            run.set_attributes(context=json.dumps(extra, default=str))
            if self._collector is not None:  # the writer saves it with its next flush
                self._collector.when_ready(lambda slow: apply_slow_context(run, extra, slow))


def apply_slow_context(run: Run, extra: dict[str, Any], slow: dict[str, Any]) -> None:
    """Record git state and package versions (collected off the kernel's thread)."""
    git = slow.get("git") or {}
    columns: dict[str, Any] = {"context": json.dumps({**extra, **slow}, default=str)}
    if git:
        columns["git_commit"] = git.get("commit")
        columns["git_dirty"] = git.get("dirty")
    run.set_attributes(**columns)


def _status_of(error: BaseException | None) -> tuple[Status, str | None]:
    if error is None:
        return Status.FINISHED, None
    text = "".join(traceback.format_exception(error))
    if isinstance(error, KeyboardInterrupt):
        return Status.INTERRUPTED, text
    return Status.FAILED, text


def _expr_key(expr: str | None) -> str | None:
    if not expr:
        return None
    key = " ".join(expr.split())
    return key if len(key) <= MAX_EXPR_KEY else key[: MAX_EXPR_KEY - 1] + "…"


def default_experiment(notebook: str | None) -> str:
    """The experiment of a cell with none given: the notebook's file name, else ``default``."""
    if notebook:
        from pathlib import PurePath

        stem = PurePath(notebook).stem
        if stem:
            return stem
    return "default"
