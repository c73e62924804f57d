"""HTML views as pure functions (data in, HTML text out): the compare panel's tables and its static copy.

The widgets show these strings in ``ipywidgets.HTML``, and a saved notebook viewed without a kernel
(nbconvert HTML, GitHub) shows :func:`comparison_html` instead. Every user string — run and experiment
names, param keys and values, tags, metric keys, notes, code, artifact and package names — passes
through :func:`esc` (``html.escape``) on its way in; images only ever appear as ``<img src="data:...">``
of an allow-listed image type, so an SVG's markup is never put into the page.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from nbtrack.ui.figures import color_of

if TYPE_CHECKING:
    from nbtrack.query.compare import Comparison, DiffLine, ValueRow

#: scoped to the ``nbtrack-cmp`` roots; JupyterLab's theme variables with light fallbacks
STYLE = """<style>
.nbtrack-cmp{font-size:var(--jp-content-font-size1,13px);color:var(--jp-content-font-color1,#222)}
.nbtrack-cmp table{border-collapse:collapse;margin:4px 0 12px}
.nbtrack-cmp th,.nbtrack-cmp td{border:1px solid var(--jp-border-color2,#ddd);padding:2px 8px;
 text-align:left;vertical-align:top}
.nbtrack-cmp th{background:var(--jp-layout-color2,#f3f3f3);font-weight:600}
.nbtrack-cmp td.nbtrack-key{font-family:var(--jp-code-font-family,monospace)}
.nbtrack-cmp tr.nbtrack-differs td.nbtrack-key{font-weight:600}
.nbtrack-cmp td.nbtrack-changed{background:var(--jp-warn-color3,#fff3cd)}
.nbtrack-cmp td.nbtrack-best{background:var(--jp-success-color3,#d4edda);font-weight:600}
.nbtrack-cmp .nbtrack-swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
.nbtrack-cmp .nbtrack-run{margin-right:14px;white-space:nowrap}
.nbtrack-cmp .nbtrack-muted{color:var(--jp-content-font-color2,#777)}
.nbtrack-cmp .nbtrack-notes{white-space:pre-wrap}
.nbtrack-cmp table.nbtrack-code-diff td{border:none;padding:0 6px}
.nbtrack-cmp td.nbtrack-code{font-family:var(--jp-code-font-family,monospace);white-space:pre}
.nbtrack-cmp td.nbtrack-lineno{color:var(--jp-content-font-color3,#999);text-align:right;user-select:none}
.nbtrack-cmp tr.nbtrack-diff-add td{background:rgba(46,160,67,.15)}
.nbtrack-cmp tr.nbtrack-diff-del td{background:rgba(248,81,73,.15)}
.nbtrack-cmp table.nbtrack-images img{max-width:360px;max-height:320px}
</style>"""

MISSING = "—"


def esc(text: object) -> str:
    """A user string made safe to put into HTML text or a quoted attribute."""
    return html.escape(str(text), quote=True)


def format_value(value: Any) -> str:
    """A param or tag value as text: strings as they are, lists and dicts as JSON, floats in full."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    return repr(value) if isinstance(value, float) else str(value)


def format_metric(value: float) -> str:
    """A metric value with 6 significant digits (NaN and infinities spelled out)."""
    return f"{value:.6g}" if math.isfinite(value) else str(value)


def run_heading(label: str, index: int) -> str:
    """A run's label with its colour swatch, as in every chart of the panel."""
    swatch = f'<span class="nbtrack-swatch" style="background:{color_of(index)}"></span>'
    return f'<span class="nbtrack-run">{swatch}{esc(label)}</span>'


def _head(labels: Sequence[str], first: str) -> str:
    cells = "".join(f"<th>{run_heading(label, i)}</th>" for i, label in enumerate(labels))
    return f"<thead><tr><th>{esc(first)}</th>{cells}</tr></thead>"


def _table(css: str, head: str, rows: Sequence[str]) -> str:
    return f'<table class="{css}">{head}<tbody>{"".join(rows)}</tbody></table>'


def header_html(comparison: Comparison) -> str:
    """The line above the tabs: the runs compared, each in its colour, with experiment and status."""
    parts = []
    for i, record in enumerate(comparison.records):
        detail = esc(f"{record.experiment} · {record.status.value.lower()}")
        parts.append(f'{run_heading(comparison.labels[i], i)}<span class="nbtrack-muted">{detail}</span> ')
    n = len(comparison.records)
    title = f"Comparing {n} runs: " if n != 1 else "One run: "
    return f'{STYLE}<div class="nbtrack-cmp nbtrack-compare-runs"><b>{title}</b>{"".join(parts)}</div>'


def runs_table_html(comparison: Comparison) -> str:
    """Experiment, status, start, duration, notebook and notes of each run."""
    records = comparison.records

    def start(t: float) -> str:
        return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

    rows = [
        ("experiment", [r.experiment for r in records]),
        ("status", [r.status.value for r in records]),
        ("started", [start(r.info.start_time) for r in records]),
        ("duration", [format_duration(r.info.duration) for r in records]),
        ("notebook", [r.info.notebook or MISSING for r in records]),
    ]
    body = [
        f'<tr><td class="nbtrack-key">{esc(key)}</td>{"".join(f"<td>{esc(v)}</td>" for v in values)}</tr>'
        for key, values in rows
    ]
    if any(r.notes for r in records):
        notes = "".join(f'<td class="nbtrack-notes">{esc(chr(10).join(r.notes))}</td>' for r in records)
        body.append(f'<tr><td class="nbtrack-key">notes</td>{notes}</tr>')
    return f'<div class="nbtrack-cmp">{_table("nbtrack-runs", _head(comparison.labels, "run"), body)}</div>'


def format_duration(seconds: float | None) -> str:
    """``12.3 s``, ``4 min 03 s``, ``2 h 05 min``; a dash while the run has not ended."""
    if seconds is None:
        return MISSING
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def values_table_html(
    rows: Sequence[ValueRow], labels: Sequence[str], *, what: str = "params", diff_only: bool = True
) -> str:
    """Params (or tags) side by side; rows that differ are marked, cells unlike the first run's highlighted.

    With ``diff_only`` the rows every run agrees on are left out and counted under the table.
    """
    shown = [row for row in rows if row.differs or not diff_only]
    hidden = len(rows) - len(shown)
    if not rows:
        return f'<div class="nbtrack-cmp nbtrack-muted nbtrack-{what}">No {esc(what)}.</div>'
    body = []
    for row in shown:
        texts = [
            format_value(v) if here else MISSING for v, here in zip(row.values, row.present, strict=True)
        ]
        cells = "".join(
            f'<td class="nbtrack-changed">{esc(t)}</td>'
            if row.differs and t != texts[0]
            else f"<td>{esc(t)}</td>"
            for t in texts
        )
        css = ' class="nbtrack-differs"' if row.differs else ""
        body.append(f'<tr{css}><td class="nbtrack-key">{esc(row.key)}</td>{cells}</tr>')
    note = ""
    if hidden:
        kind = what.removesuffix("s") + " is" if hidden == 1 else what + " are"
        note = f'<div class="nbtrack-muted">{hidden} more {esc(kind)} the same in every run.</div>'
    if not shown:
        return f'<div class="nbtrack-cmp nbtrack-{what}">{note}</div>'
    table = _table(f"nbtrack-{what}", _head(labels, what.removesuffix("s")), body)
    return f'<div class="nbtrack-cmp">{table}{note}</div>'


def metrics_table_html(comparison: Comparison) -> str:
    """Last metric values side by side, the best run(s) of each metric marked ★ (↓: lower is better)."""
    if not comparison.metrics:
        return '<div class="nbtrack-cmp nbtrack-muted nbtrack-metrics">No metrics.</div>'
    body = []
    for row in comparison.metrics:
        arrow = "↓" if row.direction == "min" else "↑"
        how = "lower" if row.direction == "min" else "higher"
        why = "set" if row.explicit else "inferred from the name"
        key = f'{esc(row.key)} <span class="nbtrack-muted" title="{how} is better ({why})">{arrow}</span>'
        cells = []
        for i, (value, count) in enumerate(zip(row.values, row.counts, strict=True)):
            text = esc(format_metric(value)) if count else MISSING
            if i in row.best:
                cells.append(f'<td class="nbtrack-best" title="best">{text} ★</td>')
            else:
                cells.append(f"<td>{text}</td>")
        body.append(
            f'<tr data-direction="{row.direction}"><td class="nbtrack-key">{key}</td>{"".join(cells)}</tr>'
        )
    table = _table("nbtrack-metrics", _head(comparison.labels, "metric (last value)"), body)
    return f'<div class="nbtrack-cmp">{table}</div>'


def code_diff_html(lines: Sequence[DiffLine], first: str, second: str) -> str:
    """Two runs' cell code as one listing: deleted lines (first run only) -, added lines (second only) +."""
    if not lines:
        return '<div class="nbtrack-cmp nbtrack-muted nbtrack-code-diff">No code recorded.</div>'
    changed = any(line.kind != "same" for line in lines)
    if changed:
        title = f"<b>- {esc(first)}</b> &nbsp; <b>+ {esc(second)}</b>"
    elif first == second:  # one run's code on its own
        title = f"<b>{esc(first)}</b>"
    else:
        title = f'<span class="nbtrack-muted">{esc(first)} and {esc(second)} ran the same code.</span>'
    mark = {"same": " ", "add": "+", "del": "-"}
    rows = "".join(
        f'<tr class="nbtrack-diff-{line.kind}"><td class="nbtrack-lineno">{line.old or ""}</td>'
        f'<td class="nbtrack-lineno">{line.new or ""}</td><td class="nbtrack-code">{mark[line.kind]} '
        f"{esc(line.text)}</td></tr>"
        for line in lines
    )
    return f'<div class="nbtrack-cmp">{title}<table class="nbtrack-code-diff">{rows}</table></div>'


def code_groups_html(comparison: Comparison) -> str:
    """Which runs ran the same cell code (one group per distinct code)."""
    groups: dict[str, list[int]] = {}
    for i, code in enumerate(comparison.code):
        groups.setdefault(code, []).append(i)
    if len(groups) == 1:
        n = len(comparison.code)
        text = "All runs ran the same code." if n > 1 else "One run."
        return f'<div class="nbtrack-cmp nbtrack-muted">{text}</div>'
    parts = [", ".join(run_heading(comparison.labels[i], i) for i in members) for members in groups.values()]
    return f'<div class="nbtrack-cmp"><b>{len(groups)} versions of the code:</b> {" | ".join(parts)}</div>'


def images_html(comparison: Comparison) -> str:
    """Captured images side by side: one row per artifact name, one column per run (data: URIs)."""
    from nbtrack.query.compare import IMAGE_MIMES

    names = list(dict.fromkeys(image.name for images in comparison.images for image in images))
    omitted = sum(comparison.images_omitted)
    more = f'<div class="nbtrack-muted">{omitted} more images not shown (too many or too large).</div>'
    if not names:
        text = "No captured images in these runs (a tracked cell's plots are kept as outputs/NNN.png)."
        return f'<div class="nbtrack-cmp nbtrack-images nbtrack-muted">{text}{more if omitted else ""}</div>'
    by_run = [{image.name: image for image in images} for images in comparison.images]
    body = []
    for name in names:
        cells = []
        for images in by_run:
            image = images.get(name)
            if image is None or image.mime not in IMAGE_MIMES:
                cells.append(f"<td>{MISSING}</td>")
                continue
            uri = f"data:{image.mime};base64,{base64.b64encode(image.data).decode('ascii')}"
            cells.append(f'<td><img src="{uri}" alt="{esc(name)}" title="{esc(name)}"></td>')
        body.append(f'<tr><td class="nbtrack-key">{esc(name)}</td>{"".join(cells)}</tr>')
    table = _table("nbtrack-images", _head(comparison.labels, "output"), body)
    return f'<div class="nbtrack-cmp">{table}{more if omitted else ""}</div>'


def env_html(comparison: Comparison, all_packages: bool = False) -> str:
    """Where the runs ran: Python, platform, host, git state, and the package versions that differ."""
    rows = [r for r in comparison.env if r.group != "package" or r.differs or all_packages]
    same = sum(1 for r in comparison.env if r.group == "package" and not r.differs)
    if not rows:
        return '<div class="nbtrack-cmp nbtrack-muted nbtrack-env">No environment recorded.</div>'
    body = []
    for row in rows:
        texts = [MISSING if v is None else v for v in row.values]
        cells = "".join(
            f'<td class="nbtrack-changed">{esc(t)}</td>'
            if row.differs and t != texts[0]
            else f"<td>{esc(t)}</td>"
            for t in texts
        )
        css = "nbtrack-differs " if row.differs else ""
        key = f"{row.group} {row.key}" if row.group == "git" else row.key
        body.append(
            f'<tr class="{css}nbtrack-env-{row.group}"><td class="nbtrack-key">{esc(key)}</td>{cells}</tr>'
        )
    note = ""
    if same and not all_packages:
        kind = "package has" if same == 1 else "packages have"
        note = f'<div class="nbtrack-muted">{same} more {kind} the same version in every run.</div>'
    table = _table("nbtrack-env", _head(comparison.labels, ""), body)
    return f'<div class="nbtrack-cmp">{table}{note}</div>'


def comparison_html(comparison: Comparison, curves: str = "", diff_only: bool = True) -> str:
    """The whole comparison as static HTML: run facts, params, metrics, tags, ``curves`` (a Plotly div),
    the code of the first two runs and the environment — for a notebook viewed without a kernel."""
    parts = [
        header_html(comparison),
        '<div class="nbtrack-cmp">',
        runs_table_html(comparison),
        "<h4>Params</h4>",
        values_table_html(comparison.params, comparison.labels, what="params", diff_only=diff_only),
        "<h4>Metrics</h4>",
        metrics_table_html(comparison),
    ]
    if comparison.tags:
        parts += ["<h4>Tags</h4>", values_table_html(comparison.tags, comparison.labels, what="tags")]
    if curves:
        parts += ["<h4>Curves</h4>", curves]
    parts += ["<h4>Code</h4>", code_groups_html(comparison)]
    second = 1 if len(comparison.records) > 1 else 0
    labels = comparison.labels
    parts.append(code_diff_html(comparison.diff_code(0, second), labels[0], labels[second]))
    parts += ["<h4>Environment</h4>", env_html(comparison), "</div>"]
    return f'<div class="nbtrack-compare-static">{"".join(parts)}</div>'
