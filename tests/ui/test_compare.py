"""The compare panel, driven as its browser half drives it: by setting widget values and the chart's range."""

from __future__ import annotations

import base64
import html
import json
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest

import nbtrack
from nbtrack.api import Session, _source
from nbtrack.errors import RunNotFound
from nbtrack.ui.compare import TAB_TITLES, ComparePanel
from nbtrack.ui.figures import color_of
from nbtrack.ui.static import comparison_html
from tests.capture.conftest import shell  # noqa: F401  (the real-shell fixture)

XSS = "<img src=x onerror=alert(1)>"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def make_run(
    name: str | None = None,
    experiment: str = "exp",
    params: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
    curve: dict[str, int] | None = None,
    context: dict[str, Any] | None = None,
    artifacts: dict[str, bytes] | None = None,
    note: str | None = None,
    **attributes: Any,
) -> int:
    """A finished run made through the tracking API; ``curve``: key -> points at steps 0..n-1."""
    if context is not None:
        attributes["context"] = json.dumps(context)
    with nbtrack.start_run(name=name, experiment=experiment, params=params, **attributes) as run:
        if metrics:
            run.log(metrics)
        for key, n in (curve or {}).items():
            for step in range(n):
                run.log({key: 1.0 + 1.0 / (step + 1)}, step=step)
        for artifact, data in (artifacts or {}).items():
            run.log_artifact(data, name=artifact)
        if note:
            run.note(note)
    return run.seq


def panel(refs: Any, directions: dict[str, str] | None = None) -> ComparePanel:
    return ComparePanel(_source(None), refs, directions=directions)


def trace_steps(p: ComparePanel) -> list[list[int]]:
    return [np.asarray(t.x).tolist() for t in p.curves.data]


def test_header_names_each_run_in_its_colour_above_seven_tabs(session: Session) -> None:
    make_run("base", params={"lr": 0.1})
    make_run("wide", params={"lr": 0.2})
    p = panel([1, 2])
    assert "Comparing 2 runs" in p.header.value
    assert f"background:{color_of(0)}" in p.header.value and "#1 base" in p.header.value
    assert f"background:{color_of(1)}" in p.header.value and "#2 wide" in p.header.value
    assert p.tabs.titles == TAB_TITLES
    assert "nbtrack-compare" in p._dom_classes and "nbtrack-compare-tabs" in p.tabs._dom_classes
    assert [c._dom_classes[0] for c in p.tabs.children] == [
        "nbtrack-tab-params", "nbtrack-tab-curves", "nbtrack-tab-parallel", "nbtrack-tab-scatter",
        "nbtrack-tab-code", "nbtrack-tab-images", "nbtrack-tab-env",
    ]  # fmt: skip


def test_charts_are_made_when_their_tab_is_first_opened(session: Session) -> None:
    make_run(params={"lr": 0.1}, metrics={"acc": 0.5}, curve={"loss": 5})
    make_run(params={"lr": 0.2}, metrics={"acc": 0.6}, curve={"loss": 5})
    p = panel([1, 2])
    pages = p.tabs.children
    assert not any(isinstance(w, go.FigureWidget) for page in pages for w in page.children)
    p.tabs.selected_index = 1  # each FigureWidget carries plotly.js (5 MB) to the browser and the notebook
    assert "nbtrack-curves" in pages[1].children[-1]._dom_classes and len(pages[1].children[-1].data) == 2
    p.tabs.selected_index = 2
    assert "nbtrack-parallel" in pages[2].children[-1]._dom_classes
    assert [d.label for d in pages[2].children[-1].data[0].dimensions] == ["lr", "acc"]
    assert not any(isinstance(w, go.FigureWidget) for w in pages[3].children)
    assert p.scatter is pages[3].children[-1] and list(p.scatter.data[0].x) == [0.1, 0.2]


def test_params_show_only_differences_by_default_highlighted_and_all_on_demand(session: Session) -> None:
    make_run(params={"lr": 0.1, "opt": "adam", "batch": 32})
    make_run(params={"lr": 0.01, "opt": "adam", "batch": 32})
    p = panel([1, 2])
    assert p.diff_only.value is True
    shown = p.params_view.value
    assert '<tr class="nbtrack-differs"><td class="nbtrack-key">lr</td><td>0.1</td>' in shown
    assert '<td class="nbtrack-changed">0.01</td>' in shown
    assert ">opt<" not in shown and "2 more params are the same in every run" in shown
    p.diff_only.value = False
    assert ">opt<" in p.params_view.value and ">batch<" in p.params_view.value


def test_best_run_marked_lower_for_loss_higher_for_accuracy_ignoring_nan(session: Session) -> None:
    make_run(metrics={"loss": 0.5, "accuracy": 0.9})
    make_run(metrics={"loss": 0.2, "accuracy": float("nan")})
    make_run(metrics={"loss": float("nan"), "accuracy": 0.8})
    table = panel([1, 2, 3]).metrics_view.value
    loss_row = table.split('<tr data-direction="min">')[1].split("</tr>")[0]
    acc_row = table.split('<tr data-direction="max">')[1].split("</tr>")[0]
    assert ">loss <" in loss_row and '<td class="nbtrack-best" title="best">0.2 ★</td>' in loss_row
    assert ">accuracy <" in acc_row and '<td class="nbtrack-best" title="best">0.9 ★</td>' in acc_row
    assert table.count("★") == 2 and "<td>nan</td>" in table


def test_direction_set_in_the_call_and_changed_in_the_panel(session: Session) -> None:
    make_run(metrics={"score": 1.0, "loss": 0.3})
    make_run(metrics={"score": 2.0, "loss": 0.4})
    p = panel([1, 2], directions={"score": "min"})
    assert p.directions == {"loss": "min", "score": "min"}
    assert p.comparison.metric("score").best == (0,)
    p.direction_metric.value = "score"
    assert p.direction.value == "min"
    p.direction.value = "max"  # the user clicks "higher is better"
    assert p.comparison.metric("score").best == (1,)
    assert '<td class="nbtrack-best" title="best">2 ★</td>' in p.metrics_view.value
    p.set_direction("loss", "max")
    assert p.comparison.metric("loss").best == (1,) and p.directions["score"] == "max"


def test_curves_one_trace_per_run_and_key_in_the_runs_colours(session: Session) -> None:
    make_run(curve={"loss": 20})
    make_run(curve={"loss": 20, "acc": 20})
    make_run(name=XSS, curve={"loss": 10, "acc": 10})
    p = panel([1, 2, 3])
    assert p.curve_keys.options == ("acc", "loss") and p.curve_keys.value == ("loss",)
    assert [t.name for t in p.curves.data] == ["#1", "#2", f"#3 {html.escape(XSS)}"]
    p.curve_keys.value = ("acc", "loss")
    assert [(t.meta["run"], t.meta["key"]) for t in p.curves.data] == [
        ("#1", "loss"), ("#2", "acc"), ("#2", "loss"), (f"#3 {XSS}", "acc"), (f"#3 {XSS}", "loss"),
    ]  # fmt: skip
    # run #1 has no acc, yet every run keeps its own colour
    assert [t.line.color for t in p.curves.data] == [
        color_of(0),
        color_of(1),
        color_of(1),
        color_of(2),
        color_of(2),
    ]
    assert all("<img" not in t.name for t in p.curves.data)


def test_x_can_be_step_wall_time_or_time_since_the_run_started(session: Session) -> None:
    make_run(curve={"loss": 5})
    make_run(curve={"loss": 5})
    p = panel([1, 2])
    assert trace_steps(p)[0] == [0, 1, 2, 3, 4] and p.curves.layout.xaxis.title.text == "step"
    p.x_axis.value = "relative"
    xs = np.asarray(p.curves.data[0].x)
    assert (
        xs.dtype.kind == "f" and (xs >= 0).all() and p.curves.layout.xaxis.title.text == "seconds since start"
    )
    p.x_axis.value = "wall"
    assert np.asarray(p.curves.data[0].x).dtype.kind == "M" and p.curves.layout.xaxis.title.text == "time"


def test_smoothing_and_log_y_change_the_figure_widget(session: Session) -> None:
    make_run(curve={"loss": 50})
    make_run(curve={"loss": 50})
    p = panel([1, 2])
    assert len(p.curves.data) == 2 and p.curves.layout.yaxis.type == "linear"
    p.smoothing.value = 0.8
    assert len(p.curves.data) == 4  # each run: a faint raw line under its smoothed line
    raw, smooth = p.curves.data[0], p.curves.data[1]
    assert raw.opacity < 1 and smooth.y[-1] > raw.y[-1]  # the EMA lags behind the falling raw curve
    p.log_y.value = True
    assert p.curves.layout.yaxis.type == "log" and len(p.curves.data) == 4
    p.smoothing.value = 0.0
    assert len(p.curves.data) == 2


def test_zoom_reloads_the_visible_steps_exactly_and_autorange_goes_back_to_all(session: Session) -> None:
    make_run(curve={"loss": 10_000})
    make_run(curve={"loss": 10_000})
    p = panel([1, 2])
    whole = trace_steps(p)
    assert all(len(steps) <= 2000 and steps[0] == 0 and steps[-1] == 9999 for steps in whole)
    assert "of 20,000 points (downsampled" in p.curve_status.value
    p.curves.layout.xaxis.range = [1000.4, 1099.6]  # what a drag-zoom in the browser sends
    assert trace_steps(p) == [list(range(1000, 1101))] * 2
    assert "steps 1000-1100: all 202 points" in p.curve_status.value
    p.curves.layout.xaxis.autorange = True  # a double click
    assert trace_steps(p) == whole
    p.curves.layout.xaxis.range = [-50, 10_050]  # wider than the data: the whole curves again
    assert trace_steps(p) == whole
    p.x_axis.value = "relative"
    p.curves.layout.xaxis.range = [0.0, 0.001]  # seconds, not steps: no reload
    assert len(p.curves.data[0].x) == len(whole[0])


def test_parallel_coordinates_of_the_varying_params_against_the_chosen_metric(session: Session) -> None:
    for i, (lr, opt) in enumerate([(0.1, "adam"), (0.01, "sgd"), (0.001, "adam")]):
        make_run(params={"lr": lr, "opt": opt, "seed": 0}, metrics={"acc": 0.5 + i / 10, "loss": 1 - i / 10})
    p = panel([1, 2, 3])
    dims = p.parallel.data[0].dimensions
    assert [d.label for d in dims] == ["lr", "opt", p.parallel_metric.value]
    p.parallel_metric.value = "loss"
    dims = p.parallel.data[0].dimensions
    assert dims[-1].label == "loss" and list(dims[-1].values) == pytest.approx([1.0, 0.9, 0.8])
    assert list(dims[1].ticktext) == ["adam", "sgd"]


def test_parallel_says_why_when_no_param_varies(session: Session) -> None:
    make_run(params={"lr": 0.1}, metrics={"acc": 0.5})
    make_run(params={"lr": 0.1}, metrics={"acc": 0.6})
    p = panel([1, 2])
    assert len(p.parallel.data) == 0
    assert "no param that differs between the runs" in p.parallel_note.value


def test_scatter_of_a_chosen_param_against_a_chosen_metric(session: Session) -> None:
    make_run(params={"lr": 0.1, "batch": 16}, metrics={"acc": 0.5, "loss": 0.9})
    make_run(params={"lr": 0.2, "batch": 32}, metrics={"acc": 0.7, "loss": 0.4})
    p = panel([1, 2])
    assert p.scatter_param.options[:2] == ("batch", "lr")  # params that vary come first
    p.scatter_param.value = "lr"
    p.scatter_metric.value = "loss"
    trace = p.scatter.data[0]
    assert list(trace.x) == [0.1, 0.2] and list(trace.y) == [0.9, 0.4] and list(trace.text) == ["#1", "#2"]
    assert p.scatter.layout.xaxis.title.text == "lr" and p.scatter.layout.yaxis.title.text == "loss"


def test_code_diff_between_two_chosen_runs_marks_added_and_removed_lines(session: Session) -> None:
    make_run(source="lr = 0.1\nfit(lr)\n")
    make_run(source="lr = 0.1\nfit(lr)\n")
    make_run(source="lr = 0.5\nfit(lr)\nsave()\n")
    p = panel([1, 2, 3])
    assert "ran the same code" in p.code_view.value
    assert "2 versions of the code" in p.code_view.value
    p.code_second.value = 2
    view = p.code_view.value
    assert '<tr class="nbtrack-diff-del"><td class="nbtrack-lineno">1</td>' in view
    assert '<td class="nbtrack-code">- lr = 0.1</td>' in view
    assert (
        '<td class="nbtrack-code">+ lr = 0.5</td>' in view
        and '<td class="nbtrack-code">+ save()</td>' in view
    )
    assert '<tr class="nbtrack-diff-same">' in view and "- #1" in view and "+ #3" in view


def test_images_side_by_side_as_data_uris_and_svg_never_inline(session: Session) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>'
    make_run(artifacts={"outputs/000.png": PNG, "outputs/001.svg": svg, "notes.txt": b"hello"})
    make_run(artifacts={"outputs/000.png": PNG})
    view = panel([1, 2]).images_view.value
    png_uri = f'<img src="data:image/png;base64,{base64.b64encode(PNG).decode()}"'
    assert view.count(png_uri) == 2  # one row, the two runs side by side
    assert f'<img src="data:image/svg+xml;base64,{base64.b64encode(svg).decode()}"' in view
    assert "<svg" not in view and "onload" not in view and "notes.txt" not in view
    assert view.count("<tr>") == 3 and "<td>—</td>" in view  # header, png, svg (run #2 has none)


def test_environment_shows_python_git_and_the_package_versions_that_differ(session: Session) -> None:
    common = {"python": "3.11.7", "platform": "Linux-6.1-x86_64"}
    make_run(
        context={**common, "git": {"branch": "main"}, "packages": {"numpy": "2.1.0", "torch": "2.4.0"}},
        git_commit="1" * 40,
        git_dirty=False,
    )
    make_run(
        context={**common, "git": {"branch": "main"}, "packages": {"numpy": "2.2.0", "torch": "2.4.0"}},
        git_commit="2" * 40,
        git_dirty=True,
    )
    view = panel([1, 2]).env_view.value
    assert '<td class="nbtrack-key">python</td><td>3.11.7</td><td>3.11.7</td>' in view
    assert '<tr class="nbtrack-differs nbtrack-env-git"><td class="nbtrack-key">git commit</td>' in view
    assert '<td>clean</td><td class="nbtrack-changed">dirty</td>' in view
    assert '<td class="nbtrack-key">numpy</td><td>2.1.0</td><td class="nbtrack-changed">2.2.0</td>' in view
    assert ">torch<" not in view and "1 more package has the same version in every run" in view


def test_runs_from_two_experiments_side_by_side(session: Session) -> None:
    make_run("a", experiment="mnist", params={"lr": 0.1}, curve={"loss": 5})
    make_run("b", experiment="cifar", params={"lr": 0.3}, curve={"loss": 5})
    p = panel(["#2", 1])
    assert p.comparison.labels == ("#2 b", "#1 a")
    assert "cifar · finished" in p.header.value and "mnist · finished" in p.header.value
    assert '<td class="nbtrack-key">experiment</td><td>cifar</td><td>mnist</td>' in p.runs_view.value
    assert [t.name for t in p.curves.data] == ["#2 b", "#1 a"]


def test_one_run_is_shown_without_differences_or_best_marks(session: Session) -> None:
    make_run(params={"lr": 0.1}, metrics={"loss": 0.2}, source="x = 1\n")
    p = panel(1)
    assert p.diff_only.value is False and ">lr<" in p.params_view.value
    assert "★" not in p.metrics_view.value and "One run" in p.header.value
    assert '<td class="nbtrack-code">  x = 1</td>' in p.code_view.value


def test_every_user_string_is_escaped_in_every_view(session: Session) -> None:
    for i in range(2):
        make_run(
            name=XSS,
            experiment=XSS,
            params={XSS: f"{XSS}{i}", "lr": i},
            tags={XSS: f"{XSS}{i}"},
            metrics={XSS: float(i)},
            curve={XSS: 3},
            source=f"{XSS}\nprint({i})\n",
            notebook=XSS,
            context={"python": XSS, "packages": {XSS: f"{XSS}{i}"}},
            artifacts={f"{XSS}.png": PNG},
            note=XSS,
        )
    p = panel([1, 2])
    p.curve_keys.value = (XSS,)
    views = {
        "header": p.header.value, "runs": p.runs_view.value, "params": p.params_view.value,
        "metrics": p.metrics_view.value, "tags": p.tags_view.value, "code": p.code_view.value,
        "images": p.images_view.value, "env": p.env_view.value, "static": p.static_html(),
    }  # fmt: skip
    escaped = html.escape(XSS)
    for name, text in views.items():
        assert "<img src=x" not in text, name
        assert escaped in text, name
    for fig in (p.curves, p.parallel, p.scatter):
        spec = fig.to_plotly_json()
        for trace in spec["data"]:
            trace.pop("meta", None)  # the panel's own bookkeeping (run, key): plotly.js never renders it
        assert "<img" not in json.dumps(spec, default=str)


def test_no_runs_and_unknown_runs_are_clear_errors(session: Session) -> None:
    make_run()
    with pytest.raises(ValueError, match="nothing to compare"):
        nbtrack.compare([])
    with pytest.raises(RunNotFound, match="no run #42"):
        nbtrack.compare([1, 42])
    with pytest.raises(RunNotFound, match="no run 'nope'"):
        nbtrack.compare(["nope"])


def test_mime_bundle_adds_a_static_html_copy_for_viewers_without_a_kernel(session: Session) -> None:
    make_run(params={"lr": 0.1}, metrics={"loss": 0.5}, curve={"acc": 10}, source="a = 1\n")
    make_run(params={"lr": 0.2}, metrics={"loss": 0.4}, curve={"acc": 10}, source="a = 2\n")
    p = nbtrack.compare([1, 2])
    bundle = p._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == p.model_id
    assert bundle["text/plain"] == "<nbtrack ComparePanel of #1, #2>"
    page = bundle["text/html"]
    for part in ('class="nbtrack-params"', 'class="nbtrack-metrics"', 'class="nbtrack-code-diff"'):
        assert part in page
    assert '<td class="nbtrack-best" title="best">0.4 ★</td>' in page
    assert "https://cdn.plot.ly/plotly-" in page and "Plotly.newPlot" in page  # the curves chart
    assert "- a = 1" in page and "+ a = 2" in page
    assert page.startswith('<div class="nbtrack-compare-static">')
    assert "Plotly" not in comparison_html(p.comparison)  # no curves given: no chart


def test_reload_reads_points_logged_since_the_panel_was_built(session: Session) -> None:
    make_run(curve={"loss": 5})
    run = nbtrack.start_run()
    run.log(loss=1.0, step=0)
    p = panel([1, run.seq])
    p.diff_only.value = False
    assert [len(t.x) for t in p.curves.data] == [5, 1]
    run.log(loss=0.5, step=1)
    run.end()
    p.refresh()
    assert [len(t.x) for t in p.curves.data] == [5, 2]
    assert p.curve_keys.value == ("loss",) and p.diff_only.value is False
    assert "finished" in p.header.value.split("#2")[1]


def test_tracked_cells_compare_their_code_and_captured_images(shell: Any) -> None:  # noqa: F811
    shell.run_cell("from IPython.display import Image, display", store_history=True)
    shell.run_cell(f"%%track\nlr = 0.1\ndisplay(Image(data={PNG!r}))\n", store_history=True)
    shell.run_cell(f"%%track\nlr = 0.2\ndisplay(Image(data={PNG!r}))\n", store_history=True)
    p = panel([1, 2])
    assert p.comparison.varying_params == ["lr"]
    assert p.images_view.value.count("data:image/png;base64,") == 2
    assert ">outputs/000.png<" in p.images_view.value
    assert '<td class="nbtrack-code">- lr = 0.1</td>' in p.code_view.value
    assert '<td class="nbtrack-code">+ lr = 0.2</td>' in p.code_view.value
