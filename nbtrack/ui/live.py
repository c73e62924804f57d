"""Live curves in a ``%%track`` cell: a compact chart that redraws while the loop runs, then freezes.

``log()`` pays nothing for it: the background writer hands each key's points to the chart as it
writes them (``RunSink.watchers``), and a daemon thread redraws at most every ``interval`` seconds.
While the cell runs the chart is an ``ipywidgets.Output`` whose one Plotly output is replaced at each
frame: JupyterLab's Plotly renderer ignores a display update of a chart it already drew
(plotly/plotly.py#3053), while a replaced output gets a fresh renderer in every front end with a
widget manager (JupyterLab, Notebook 7, VS Code). When the cell ends, the display is updated to a
plain Plotly output of the final chart, with a static HTML form beside it: that is what the notebook
saves, so it shows without a kernel or widget state. A cell that ends within ``delay`` seconds shows
no chart: its summary line says enough.
"""

from __future__ import annotations

import contextvars
import html
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from nbtrack.query.downsample import Points, downsample

#: (bundle, metadata, display_id, update) -> None; IPython's display by default
Publisher = Callable[[dict[str, Any], dict[str, Any], str, bool], None]

PLOTLY_MIME = "application/vnd.plotly.v1+json"
#: nbtrack's own chart, drawn as SVG by its JupyterLab extension (fast to open in a saved notebook)
CHART_MIME = "application/vnd.nbtrack.chart.v1+json"


class WidgetPublisher:
    """Shows live frames in an ``ipywidgets.Output`` and the final frame as a plain Plotly display."""

    def __init__(self) -> None:
        self._output: Any = None

    def __call__(
        self, bundle: dict[str, Any], metadata: dict[str, Any], display_id: str, update: bool
    ) -> None:
        from IPython.display import display

        final = not metadata.get("nbtrack", {}).get("live", False)
        if final:  # replaces the widget (a new mime type: a new renderer) or is the first frame
            display(bundle, raw=True, metadata=metadata, display_id=display_id, update=update)
            if self._output is not None:
                self._output.close()
                self._output = None
            return
        frame = ({"output_type": "display_data", "data": bundle, "metadata": {}},)
        if self._output is None:
            import ipywidgets

            self._output = ipywidgets.Output()
            self._output.outputs = frame
            view = self._output._repr_mimebundle_()
            display(view, raw=True, metadata=metadata, display_id=display_id, update=update)
        else:
            self._output.outputs = frame


class LiveChart:
    """The live chart of one run: collects written points, redraws on a timer, freezes at the end."""

    def __init__(
        self,
        run: Any,  # nbtrack.tracking.run.Run
        flush: Callable[[], None],
        publish: Publisher | None = None,
        interval: float = 0.3,
        delay: float = 1.0,
        max_points: int = 1000,
    ) -> None:
        self.run = run
        self.interval = interval
        self.delay = delay
        self.max_points = max_points
        # unique within the kernel; no uuid4: os.urandom releases the GIL on the kernel thread
        self.display_id = f"nbtrack-live-{id(self):x}-{time.monotonic_ns():x}"
        self.frames = 0  # how many times the chart was drawn (shown or updated)
        self._flush = flush
        self._publish = publish if publish is not None else WidgetPublisher()
        self._parts: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self._lock = threading.Lock()
        self._dirty = False
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._sink = run.sink
        self._sink.watchers.append(self._on_written)
        # the cell's output parent, for displays from the drawing thread; that thread starts with the
        # first written points, so a tracked cell that logs nothing costs no thread
        self._context = contextvars.copy_context()
        self._thread: threading.Thread | None = None

    # -- fed by the writer's thread ------------------------------------------------------------------
    def _on_written(self, key: str, steps: Any, values: Any, times: Any) -> None:
        with self._lock:
            parts = self._parts.setdefault(key, [])
            parts.append((steps, values, times))
            if sum(len(p[0]) for p in parts) > 8 * self.max_points:
                points = downsample(
                    _concat(parts), 2 * self.max_points
                ).points  # keeps each bucket's extremes
                parts[:] = [(points.steps, points.values, points.times)]
            self._dirty = True
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._context.run, args=(self._loop,), name="nbtrack-live", daemon=True
                )
                self._thread.start()

    # -- the drawing thread ---------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            if self._dirty and time.monotonic() - self._started >= self.delay:
                self._draw(final=False)

    def _series(self) -> list[Any]:
        from nbtrack.ui.figures import Series

        with self._lock:
            self._dirty = False
            taken = {key: _concat(parts) for key, parts in self._parts.items()}
        label = _label(self._sink.seq, self.run.name)
        return [  # a single point (a value the cell bound at its end, say) is no curve
            Series(label, key, downsample(points, self.max_points).points, self.run.start_time)
            for key, points in sorted(taken.items())
            if len(points.steps) > 1
        ]

    def _draw(self, final: bool) -> None:
        from nbtrack.ui.figures import live_figure

        series = self._series()
        if not series:
            return
        status = self.run.status.value if final else "running"
        title = f"{_label(self._sink.seq, self.run.name)} · {status}"
        fig = live_figure(series, title)
        bundle = chart_bundle(fig, series, title, final)
        metadata = {"nbtrack": {"chart": True, "live": not final, "frames": self.frames + 1}}
        self._publish(bundle, metadata, self.display_id, self.frames > 0)
        self.frames += 1

    # -- the cell's end -------------------------------------------------------------------------------
    @property
    def shown(self) -> bool:
        """Whether the chart appeared in the cell's output."""
        return self.frames > 0

    def freeze(self) -> None:
        """Stop redrawing; a chart that was shown is drawn once more with every point, and stays."""
        self._stop.set()
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
        try:
            long_enough = time.monotonic() - self._started >= self.delay
            if self.frames > 0 or (long_enough and (self._parts or self._sink.buffers)):
                self._flush()  # the run's last points reach the chart through the writer
                self._draw(final=True)
        finally:
            if self._on_written in self._sink.watchers:
                self._sink.watchers.remove(self._on_written)


def chart_bundle(fig: Any, series: list[Any], title: str, final: bool) -> dict[str, Any]:
    """The chart's display data: Plotly's mime type and plain text; frozen, also nbtrack's own chart (drawn
    as SVG by its JupyterLab extension, ahead of Plotly) and a static HTML form."""
    import plotly.io as pio

    figure = json.loads(pio.to_json(fig, validate=False))
    figure["config"] = {"displaylogo": False, "responsive": True}
    lasts = ", ".join(f"{s.key}={_last(s.points):.4g}" for s in series)
    bundle: dict[str, Any] = {PLOTLY_MIME: figure, "text/plain": f"{title}: {lasts}"}
    if final:
        from nbtrack.ui.figures import chart_data

        bundle[CHART_MIME] = chart_data(series, title)
        rows = "".join(
            f"<tr><td>{html.escape(s.key)}</td><td>{_last(s.points):.6g}</td>"
            f"<td>{len(s.points.steps)}</td></tr>"
            for s in series
        )
        chart = pio.to_html(fig, include_plotlyjs="cdn", full_html=False, config=figure["config"])
        bundle["text/html"] = (
            f'<div class="nbtrack-live-static"><b>{html.escape(title)}</b>'
            f"<table><tr><th>metric</th><th>last</th><th>points drawn</th></tr>{rows}</table>{chart}</div>"
        )
    return bundle


def _concat(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Points:
    if len(parts) == 1:
        return Points(*parts[0])
    return Points(*(np.concatenate([p[i] for p in parts]) for i in range(3)))


def _last(points: Points) -> float:
    return float(points.values[-1]) if len(points.values) else float("nan")


def _label(seq: int | None, name: str | None) -> str:
    label = f"run #{seq}" if seq is not None else "run"
    return f"{label} {name}" if name else label
