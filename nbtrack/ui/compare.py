"""The compare panel: runs side by side in a notebook (``nbtrack.compare([3, 5, 8])``).

A header names the runs, each in the colour it has in every chart, above seven tabs: *Params &
metrics* (params with differing values highlighted, differences only by default; last metric values
with the best run marked, the direction settable per metric), *Curves* (overlaid metric curves: keys,
x = step / wall time / relative time, EMA smoothing, log y), *Parallel* (parallel coordinates of the
params that vary against a metric), *Scatter* (a param against a metric), *Code* (the cell code of two
runs, diffed), *Images* (captured images side by side) and *Environment* (Python, platform, host, git,
package versions that differ).

Data comes from :mod:`nbtrack.query.compare`, read once per (re)load; tables are HTML strings from
:mod:`nbtrack.ui.static`, charts come from the pure builders of :mod:`nbtrack.ui.figures`. Curves are
downsampled (about 2,000 points per trace); with x = step, zooming the chart reloads the visible step
range — exact when it fits — and autorange (a double click) goes back to the whole curves.

Saved and viewed without a kernel (nbconvert, GitHub), the panel shows its static copy instead: the
``text/html`` of :meth:`ComparePanel._repr_mimebundle_` (:func:`nbtrack.ui.static.comparison_html`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

from nbtrack.query import StoreSource
from nbtrack.query.compare import Comparison, RunCurve, load_comparison, load_curves, parse_direction
from nbtrack.ui import static
from nbtrack.ui.figures import Series, color_of, curves_figure, parallel_figure, scatter_figure

TAB_TITLES = ("Params & metrics", "Curves", "Parallel", "Scatter", "Code", "Images", "Environment")
#: CSS class of each tab's page, in tab order (for browser tests and styling)
TAB_CLASSES = ("params", "curves", "parallel", "scatter", "code", "images", "env")
X_AXES = (("step", "step"), ("wall time", "wall"), ("relative time", "relative"))


class ComparePanel(widgets.VBox):
    """Several runs side by side; ``refs`` are run numbers, ``"#12"``, run ids, records or ``runs()``.

    What code (and tests) can reach: ``comparison`` (the :class:`~nbtrack.query.compare.Comparison`
    shown), ``directions``, :meth:`set_direction`, :meth:`refresh`, :meth:`static_html`; the controls
    ``diff_only``, ``direction_metric``/``direction``, ``curve_keys``, ``x_axis``, ``smoothing``,
    ``log_y``, ``parallel_metric``, ``scatter_param``/``scatter_metric``, ``code_first``/``code_second``,
    ``reload_button``, ``tabs``; the views ``header``, ``runs_view``, ``params_view``, ``metrics_view``,
    ``tags_view``, ``curve_status``, ``code_view``, ``images_view``, ``env_view`` (HTML widgets); and
    the charts ``curves``, ``parallel``, ``scatter`` (FigureWidgets, made when first shown). Each part
    carries an ``nbtrack-*`` CSS class for browser tests.
    """

    def __init__(
        self, source: StoreSource, refs: Sequence[Any], directions: Mapping[str, str] | None = None
    ) -> None:
        self._source = source
        self.comparison: Comparison = load_comparison(source(), refs, directions)
        self._muted = 0
        self._curve_data: list[RunCurve] = []
        self._series: list[Series] = []
        self._steps: tuple[int | None, int | None] = (None, None)  # the step range the curves show
        self._extent: tuple[int, int] | None = None  # steps the whole curves span
        self._charts: dict[str, go.FigureWidget] = {}
        self._build_widgets()
        super().__init__([widgets.HBox([self.header, self.reload_button]), self.tabs])
        self.add_class("nbtrack-compare")
        self._observe()
        self._sync_options()
        self._render_all()

    # -- widgets ---------------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        many = len(self.comparison.records) > 1
        html = widgets.HTML
        self.header = _classed(html(), "nbtrack-compare-header")
        self.reload_button = _classed(
            widgets.Button(description="reload", icon="refresh", tooltip="read the runs again"),
            "nbtrack-compare-reload",
        )
        self.reload_button.layout.width = "90px"
        # params & metrics
        self.diff_only = _classed(
            widgets.Checkbox(value=many, description="params: differences only", indent=False),
            "nbtrack-diff-only",
        )
        self.runs_view, self.params_view = html(), _classed(html(), "nbtrack-params-view")
        self.metrics_view, self.tags_view = _classed(html(), "nbtrack-metrics-view"), html()
        self.direction_metric = _classed(widgets.Dropdown(description="best of"), "nbtrack-direction-metric")
        self.direction = _classed(
            widgets.ToggleButtons(options=[("lower is better", "min"), ("higher is better", "max")]),
            "nbtrack-direction",
        )
        # curves
        self.curve_keys = _classed(
            widgets.SelectMultiple(description="metrics", rows=5), "nbtrack-curve-keys"
        )
        self.x_axis = _classed(widgets.ToggleButtons(options=X_AXES, value="step"), "nbtrack-x-axis")
        self.smoothing = _classed(
            widgets.FloatSlider(0.0, min=0.0, max=0.99, step=0.01, description="smoothing"),
            "nbtrack-smoothing",
        )
        self.log_y = _classed(widgets.Checkbox(False, description="log y", indent=False), "nbtrack-log-y")
        self.curve_status = _classed(html(), "nbtrack-curve-status")
        # parallel, scatter
        self.parallel_metric = _classed(widgets.Dropdown(description="metric"), "nbtrack-parallel-metric")
        self.parallel_note = html()
        self.scatter_param = _classed(widgets.Dropdown(description="param"), "nbtrack-scatter-param")
        self.scatter_metric = _classed(widgets.Dropdown(description="metric"), "nbtrack-scatter-metric")
        self.scatter_note = html()
        # code, images, environment
        self.code_first = _classed(widgets.Dropdown(description="-"), "nbtrack-code-first")
        self.code_second = _classed(widgets.Dropdown(description="+"), "nbtrack-code-second")
        self.code_view = _classed(html(), "nbtrack-code-view")
        self.images_view = _classed(html(), "nbtrack-images-view")
        self.env_view = _classed(html(), "nbtrack-env-view")
        curve_controls = widgets.VBox([self.x_axis, widgets.HBox([self.smoothing, self.log_y])])
        pages = [
            [self.runs_view, self.diff_only, self.params_view, self.metrics_view,
             widgets.HBox([self.direction_metric, self.direction]), self.tags_view],
            [widgets.HBox([self.curve_keys, curve_controls]), self.curve_status],
            [self.parallel_metric, self.parallel_note],
            [widgets.HBox([self.scatter_param, self.scatter_metric]), self.scatter_note],
            [widgets.HBox([self.code_first, self.code_second]), self.code_view],
            [self.images_view],
            [self.env_view],
        ]  # fmt: skip
        self._pages = {
            css: _classed(widgets.VBox(page), f"nbtrack-tab-{css}")
            for page, css in zip(pages, TAB_CLASSES, strict=True)
        }
        self.tabs = _classed(
            widgets.Tab(children=list(self._pages.values()), titles=TAB_TITLES), "nbtrack-compare-tabs"
        )

    def _observe(self) -> None:
        def on(widget: widgets.Widget, handler: Any) -> None:
            widget.observe(lambda _change: None if self._muted else handler(), names="value")

        on(self.diff_only, self._render_tables)
        on(self.direction_metric, self._show_direction)
        on(self.direction, self._direction_chosen)
        on(self.curve_keys, lambda: self._redraw_curves(steps=(None, None), reset_range=True))
        on(self.x_axis, lambda: self._redraw_curves(steps=(None, None), reset_range=True))
        on(self.smoothing, self._draw_curves)
        on(self.log_y, self._draw_curves)
        on(self.parallel_metric, self._draw_parallel)
        on(self.scatter_param, self._draw_scatter)
        on(self.scatter_metric, self._draw_scatter)
        on(self.code_first, self._render_code)
        on(self.code_second, self._render_code)
        self.reload_button.on_click(lambda _button: self.refresh())
        self.tabs.observe(lambda change: self._chart(TAB_CLASSES[change["new"]]), names="selected_index")

    @contextlib.contextmanager
    def _quiet(self) -> Iterator[None]:
        """Changes made by the panel itself, which its observers must not answer."""
        self._muted += 1
        try:
            yield
        finally:
            self._muted -= 1

    # -- charts, made when first shown -----------------------------------------------------------
    @property
    def curves(self) -> go.FigureWidget:
        """The overlaid metric curves (made on first use: each FigureWidget carries plotly.js, 5 MB)."""
        return self._chart("curves")

    @property
    def parallel(self) -> go.FigureWidget:
        """Parallel coordinates of the varying params and a metric (made on first use)."""
        return self._chart("parallel")

    @property
    def scatter(self) -> go.FigureWidget:
        """A param against a metric, one point per run (made on first use)."""
        return self._chart("scatter")

    def _chart(self, name: str) -> Any:
        """The FigureWidget of tab ``name``, made, put on its page and drawn when first asked for."""
        draw = {"curves": self._draw_curves, "parallel": self._draw_parallel, "scatter": self._draw_scatter}
        if name not in draw:
            return None
        chart = self._charts.get(name)
        if chart is None:
            chart = self._charts[name] = _classed(go.FigureWidget(), f"nbtrack-{name}")
            if name == "curves":
                chart.layout.on_change(self._on_x_range, "xaxis.range")
                chart.layout.on_change(self._on_autorange, "xaxis.autorange")
            page = self._pages[name]
            page.children = (*page.children, chart)
            draw[name]()
        return chart

    # -- public ----------------------------------------------------------------------------------
    @property
    def directions(self) -> dict[str, str]:
        """The direction of every metric: ``"min"`` (lower is better) or ``"max"``."""
        return {row.key: row.direction for row in self.comparison.metrics}

    def set_direction(self, key: str, direction: str) -> None:
        """Say whether lower (``"min"``) or higher (``"max"``) values of metric ``key`` are better."""
        self.comparison.metric(key)  # KeyError naming the known metrics
        self.comparison = self.comparison.with_directions({key: parse_direction(key, direction)})
        self._render_tables()
        self._show_direction()

    def refresh(self) -> None:
        """Read the runs again (new points, params, outputs), keeping the choices made in the panel."""
        explicit = {row.key: row.direction for row in self.comparison.metrics if row.explicit}
        self.comparison = load_comparison(self._source(), self.comparison.run_ids, explicit)
        self._sync_options()
        self._render_all(steps=self._steps)

    def static_html(self) -> str:
        """The comparison as static HTML (tables, curves as a Plotly div, code diff, environment)."""
        import plotly.io as pio

        curves = ""
        if self._series:
            curves = pio.to_html(self._curves_figure(), include_plotlyjs="cdn", full_html=False)
        return static.comparison_html(self.comparison, curves, diff_only=self.diff_only.value)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget view, plus a static ``text/html`` copy for viewers without a kernel."""
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = self.static_html()
        return bundle

    def __repr__(self) -> str:
        return f"<nbtrack ComparePanel of {', '.join(self.comparison.labels)}>"

    # -- options and rendering -------------------------------------------------------------------
    def _sync_options(self) -> None:
        """Fill the choosers from the comparison, keeping choices that still apply."""
        c = self.comparison
        metric = _default_metric(c)
        runs = [(label, i) for i, label in enumerate(c.labels)]
        params = c.varying_params + [row.key for row in c.params if not row.differs]
        curve_keys = c.curve_keys or c.metric_keys
        with self._quiet():
            _choose(self.direction_metric, c.metric_keys, metric)
            _choose(self.parallel_metric, c.metric_keys, metric)
            _choose(self.scatter_metric, c.metric_keys, metric)
            _choose(self.scatter_param, params, params[0] if params else None)
            _choose(self.code_first, runs, 0)
            _choose(self.code_second, runs, 1 if len(runs) > 1 else 0)
            current = [k for k in self.curve_keys.value if k in curve_keys]
            self.curve_keys.options = curve_keys
            self.curve_keys.value = tuple(current or _default_curve_keys(curve_keys))
        self.direction.disabled = not c.metric_keys

    def _render_all(self, steps: tuple[int | None, int | None] = (None, None)) -> None:
        self.header.value = static.header_html(self.comparison)
        self._render_tables()
        self._show_direction()
        self._redraw_curves(steps=steps, reset_range=steps == (None, None))
        self._draw_parallel()
        self._draw_scatter()
        self._render_code()
        self.images_view.value = static.images_html(self.comparison)
        self.env_view.value = static.env_html(self.comparison)

    def _render_tables(self) -> None:
        c = self.comparison
        self.runs_view.value = static.runs_table_html(c)
        self.params_view.value = static.values_table_html(c.params, c.labels, diff_only=self.diff_only.value)
        self.metrics_view.value = static.metrics_table_html(c)
        self.tags_view.value = (
            static.values_table_html(c.tags, c.labels, what="tags", diff_only=self.diff_only.value)
            if c.tags
            else ""
        )

    def _direction_chosen(self) -> None:
        if self.direction_metric.value is not None:
            self.set_direction(self.direction_metric.value, self.direction.value)

    def _show_direction(self) -> None:
        key = self.direction_metric.value
        if key is not None:
            with self._quiet():
                self.direction.value = self.comparison.metric(key).direction

    def _render_code(self) -> None:
        c = self.comparison
        first, second = self.code_first.value or 0, self.code_second.value or 0
        diff = static.code_diff_html(c.diff_code(first, second), c.labels[first], c.labels[second])
        self.code_view.value = static.code_groups_html(c) + diff

    # -- curves ----------------------------------------------------------------------------------
    def _redraw_curves(self, steps: tuple[int | None, int | None], reset_range: bool = False) -> None:
        """Read the chosen keys' curves within ``steps`` and draw them."""
        c = self.comparison
        self._curve_data = load_curves(self._source(), c, list(self.curve_keys.value), steps)
        self._series = [
            Series(
                c.labels[rc.index],
                rc.key,
                rc.curve.points,
                c.records[rc.index].info.start_time,
                rc.curve.exact,
            )
            for rc in self._curve_data
        ]
        self._steps = steps
        if steps == (None, None):
            spans = [(int(s.points.steps[0]), int(s.points.steps[-1])) for s in self._series if len(s.points)]
            self._extent = (min(a for a, _ in spans), max(b for _, b in spans)) if spans else None
        self._draw_curves(reset_range)

    def _curves_figure(self) -> go.Figure:
        fig = curves_figure(
            self._series, x=self.x_axis.value, smoothing=self.smoothing.value, log_y=self.log_y.value
        )
        index = {label: i for i, label in enumerate(self.comparison.labels)}
        for trace in fig.data:  # the panel's colour of each run, whichever runs have the key
            trace.line.color = color_of(index[trace.meta["run"]])
        return fig

    def _draw_curves(self, reset_range: bool = False) -> None:
        if "curves" in self._charts:
            _replace_figure(self._charts["curves"], self._curves_figure(), self._quiet, reset_range)
        self.curve_status.value = self._curve_status()

    def _curve_status(self) -> str:
        if not self.curve_keys.options:
            return '<span class="nbtrack-muted">These runs logged no metrics.</span>'
        if not self._curve_data:
            return '<span class="nbtrack-muted">Choose one or more metrics.</span>'
        logged = sum(rc.curve.total for rc in self._curve_data)
        shown = sum(len(rc.curve.points) for rc in self._curve_data)
        lo, hi = self._steps
        where = f"steps {lo}-{hi}" if lo is not None else "all steps"
        if all(rc.curve.exact for rc in self._curve_data):
            return f'<span class="nbtrack-muted">{where}: all {logged:,} points</span>'
        hint = ", zoom in (x = step) for exact points" if self.x_axis.value == "step" else ""
        return (
            f'<span class="nbtrack-muted">{where}: {shown:,} of {logged:,} points (downsampled{hint})</span>'
        )

    def _on_x_range(self, _layout: Any, xrange: Any) -> None:
        """Zoom with x = step: read the visible steps again (all of them when they fit)."""
        if self._muted or self.x_axis.value != "step" or not xrange:
            return
        try:
            lo, hi = math.floor(float(xrange[0])), math.ceil(float(xrange[1]))
        except (TypeError, ValueError):
            return
        if self._charts["curves"].layout.xaxis.autorange is not False:
            # an explicit range ends autorange (as in plotly.js), so a double click is a change again
            with self._quiet():
                self._charts["curves"].layout.xaxis.autorange = False
        whole = self._extent is None or (lo <= self._extent[0] and hi >= self._extent[1])
        steps: tuple[int | None, int | None] = (None, None) if whole else (lo, hi)
        if steps != self._steps:
            self._redraw_curves(steps)

    def _on_autorange(self, _layout: Any, autorange: Any) -> None:
        """Autorange (a double click): back to the whole curves."""
        if not self._muted and autorange is True and self._steps != (None, None):
            self._redraw_curves((None, None))

    # -- parallel coordinates and scatter --------------------------------------------------------
    def _draw_parallel(self) -> None:
        c, metric = self.comparison, self.parallel_metric.value
        empty = metric is None or not c.varying_params
        why = "no metrics" if metric is None else "no param that differs between the runs"
        self.parallel_note.value = (
            f'<span class="nbtrack-muted">Nothing to draw: {why}.</span>' if empty else ""
        )
        chart = self._charts.get("parallel")
        if chart is not None:
            fig = go.Figure() if empty else parallel_figure(c.frame, c.varying_params, metric)
            _replace_figure(chart, fig, self._quiet)

    def _draw_scatter(self) -> None:
        c, param, metric = self.comparison, self.scatter_param.value, self.scatter_metric.value
        empty = param is None or metric is None
        why = "no params" if param is None else "no metrics"
        self.scatter_note.value = (
            f'<span class="nbtrack-muted">Nothing to draw: {why}.</span>' if empty else ""
        )
        chart = self._charts.get("scatter")
        if chart is not None:
            fig = go.Figure() if empty else scatter_figure(c.frame, param, metric)
            _replace_figure(chart, fig, self._quiet)


def _classed(widget: Any, css: str) -> Any:
    """``widget`` with CSS class ``css`` (the names browser tests look for)."""
    widget.add_class(css)
    return widget


def _choose(widget: Any, options: Sequence[Any], default: Any) -> None:
    """Set a chooser's options, keeping its value when it is still one of them."""
    current = widget.value
    widget.options = list(options)
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    widget.value = current if current in values else default


def _default_metric(c: Comparison) -> str | None:
    """The metric most runs have a finite value of (the first such, by name)."""

    def known(key: str) -> int:
        return sum(math.isfinite(v) for v in c.metric(key).values)

    return max(c.metric_keys, key=known, default=None)


def _default_curve_keys(keys: Sequence[str]) -> list[str]:
    """One key to start with: a loss if there is one, else the first."""
    losses = [k for k in keys if "loss" in k.lower()]
    return (losses or list(keys))[:1]


def _replace_figure(widget: go.FigureWidget, fig: go.Figure, quiet: Any, reset_range: bool = False) -> None:
    """Show ``fig`` in ``widget`` (traces replaced, layout merged; the zoom kept unless ``reset_range``)."""
    layout = fig.layout.to_plotly_json()
    layout.pop("template", None)
    with quiet(), widget.batch_update():
        widget.data = ()
        widget.add_traces(fig.data)
        widget.update_layout(layout)
        if reset_range:
            widget.layout.xaxis.range = None
            widget.layout.xaxis.autorange = True
