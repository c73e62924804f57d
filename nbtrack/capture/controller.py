"""The per-shell state of the extension: on/off, default experiment, and finishing runs with a summary.

One :class:`Controller` per IPython shell (kept on the extension, never a module global). It makes
:class:`~nbtrack.capture.cellrun.CellRun` objects for the hooks and the magic, finishes them inside the
guard, and shows the summary line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from nbtrack.capture.guard import guarded, warn
from nbtrack.capture.request import TrackRequest
from nbtrack.errors import StoreError

if TYPE_CHECKING:
    from nbtrack.capture.cellrun import CellRun, Outcome
    from nbtrack.capture.summary import Summary
    from nbtrack.model import RunPlace
    from nbtrack.tracking.buffers import RunSink
    from nbtrack.tracking.run import Run
    from nbtrack.tracking.tracker import Tracker


class LiveView(Protocol):
    """A live view of a running cell's run (the extension supplies one: ``nbtrack.ui.live``)."""

    def freeze(self) -> None: ...


class Controller:
    """Settings and run bookkeeping shared by the hooks and the magics of one shell."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.enabled = True
        self.default_experiment: str | None = None
        # makes the live chart of a tracked cell's run (set by the extension; None: no live charts)
        self.live: Callable[[Run], LiveView] | None = None
        self._summaries: list[tuple[Summary, tuple[RunPlace, str, float] | None, RunSink]] = []

    @property
    def tracker(self) -> Tracker:
        """The process's tracker (from nbtrack's default session)."""
        from nbtrack import api

        return api.session().tracker

    def new_cell_run(
        self,
        request: TrackRequest,
        body: str,
        extra_tags: dict[str, str] | None = None,
        code: str | None = None,
    ) -> CellRun:
        """A CellRun for ``body`` with this shell's defaults."""
        from nbtrack.capture.cellrun import CellRun

        return CellRun(self.tracker, self.shell, request, body, self.default_experiment, extra_tags, code)

    def start(
        self,
        request: TrackRequest,
        body: str,
        extra_tags: dict[str, str] | None = None,
        code: str | None = None,
    ) -> CellRun | None:
        """Begin tracking a cell body (guarded); None when tracking is off or could not start."""
        if not self.enabled:
            return None
        cell_run = None
        with guarded("starting the run for this cell") as ok:
            cell_run = self.new_cell_run(request, body, extra_tags, code)
            cell_run.begin()
        if not ok.ok:
            self.abandon(cell_run)
            return None
        if self.live is not None and not request.quiet and cell_run.run is not None:
            with guarded("starting the live chart"):
                cell_run.live = self.live(cell_run.run)
        return cell_run

    def abandon(self, cell_run: CellRun | None) -> None:
        """Forget a cell run whose start failed (its run, if any, is ended as FAILED)."""
        if cell_run is not None and cell_run.run is not None:
            with guarded("ending the run"):
                cell_run._stop_capture()
                cell_run.run.end("FAILED", "nbtrack could not finish starting this run")

    def finish(self, cell_run: CellRun, outcome: Outcome) -> Summary | None:
        """End the cell's run (guarded); its summary line is shown when the outermost cell ends."""
        with guarded("saving this cell's run") as ok:
            status = cell_run.finish(outcome)
        if cell_run.live is not None:
            with guarded("drawing the final chart"):
                cell_run.live.freeze()
        if not ok.ok or status is None or cell_run.run is None:
            return None
        # The run was started in the background: if the store fails, say so once for this cell.
        failing = self.tracker.writer.failing
        if failing is None and not cell_run.request.quiet:
            try:
                cell_run.run.seq  # noqa: B018 - the summary needs it: wait for the run's row
            except StoreError as exc:
                failing = exc
        if failing is not None:
            warn(f"this run is not saved yet (kept in memory and retried): {failing}")
            return None
        if cell_run.request.quiet:
            return None
        summary = None
        with guarded("summarising the run"):
            summary = self.summarise(cell_run)
            if not cell_run.clear_pending:  # the summary would be the output that wipes the cell
                self._summaries.append((summary, self._comparison_of(cell_run), cell_run.run.sink))
        return summary

    def show_summaries(self) -> None:
        """Display the summary lines of runs that ended (called when the outermost cell ends)."""
        if not self._summaries:
            return
        summaries, self._summaries = self._summaries, []
        with guarded("showing the run summary"):
            from nbtrack.capture.showing import show_bundle

            for summary, comparison, sink in summaries:
                if comparison is not None:
                    self._compare(summary, comparison, sink)
                # raw: the bundle is known, so IPython's dozen formatters need not be asked
                show_bundle(self.shell, summary.bundle(), {"nbtrack": {"summary": True}})

    def _compare(self, summary: Summary, comparison: tuple[RunPlace, str, float], sink: RunSink) -> None:
        """Best so far and change since the previous run, from the store and this process's unsaved runs.

        Neither this run's data nor earlier runs' need be written first (the writer does it after the
        cell), unless part of an earlier run is in the store already and the rest is not.
        """
        from nbtrack import api
        from nbtrack.model import RunPlace, UnsavedMetric

        place, key, value = comparison
        unsaved = []
        for other, row, experiment in self.tracker.writer.for_comparison(besides=sink, key=key):
            has_key, last = other.last_buffered(key)
            if has_key and other.seq is not None:
                there = RunPlace(other.run_id, other.seq, experiment, row.get("notebook"), row.get("cell_id"))
                unsaved.append(UnsavedMetric(there, last))
        standing = api.metric_standing(place, key, value, unsaved=unsaved)
        summary.best = standing.is_best and standing.best_other is not None
        if standing.previous_seq is not None and standing.previous_value is not None:
            summary.previous = (standing.previous_seq, standing.previous_value)

    @staticmethod
    def _comparison_of(cell_run: CellRun) -> tuple[RunPlace, str, float] | None:
        """What the summary compares: this run's place and its headline metric (None: no metric)."""
        run = cell_run.run
        if cell_run.metric is None or run is None:
            return None
        from nbtrack.model import RunPlace

        info = cell_run.place
        place = RunPlace(run.id, run.seq, run.experiment, info.get("notebook"), info.get("cell_id"))
        key, value = cell_run.metric
        return place, key, value

    def summarise(self, cell_run: CellRun) -> Summary:
        """The summary line of a finished cell run, without its comparison with earlier runs."""
        from nbtrack.capture.summary import Summary  # not at load: %load_ext stays cheap

        run = cell_run.run
        assert run is not None
        error = None
        if run.status.value != "FINISHED" and run.error_line:
            error = run.error_line
        return Summary(
            seq=run.seq,
            status=run.status.value,
            duration=(run.end_time or run.start_time) - run.start_time,
            params=dict(cell_run.params),
            metric=cell_run.metric,
            error=error,
            name=run.name,
        )
