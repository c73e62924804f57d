"""nbtrack's panels in real JupyterLab and Chromium: the run table, the live chart, the compare panel.

Few tests, because each costs seconds (a kernel, and 2-9 s for each Plotly FigureWidget a tab shows):

- user strings (run and experiment names, param and tag keys and values, notes, metric keys, code)
  made of HTML/script payloads: shown as text in every panel, never run;
- the example notebook ``notebooks/compare.ipynb`` run as a user runs it (once, by the module fixture
  ``compare_run``): its live chart drawn while the slow cell runs, the run table (sort, select,
  Compare, filters good and bad) and the comparison with its curves;
- from the same run, the live chart redrawn in place while its cell runs, then showing its final status.

Cells are found by the start of their code and named with a ``data-test-cell`` attribute. Pictures go to
``test-artifacts/browser/panels-*.png``.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.lab import (
    VIEWPORT,
    kernel_value,
    open_notebook,
    run_all,
    screenshot,
    wait_idle,
    wait_kernel_value,
    watch_errors,
    write_notebook,
)
from tests.e2e.labserver import LabServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Locator, Page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LIVE_CELL = "%%track -e compare\nlr = 0.02"  # compare.ipynb's slow cell, the one with a live chart

#: records each distinct look (title, subplot titles) of the chart below the cell starting with ``source``
#: (Plotly while it runs, nbtrack's own SVG chart once frozen), and whether the cell was still running
#: then, into ``window.__liveFrames``
WATCH_CHART = """([source, tick]) => {
    const frames = [];
    window.__liveFrames = frames;
    window.__liveTimer = setInterval(() => {
        const notebook = window.jupyterapp.shell.currentWidget.content;
        const cell = notebook.widgets.find((c) => c.model.sharedModel.getSource().startsWith(source));
        const own = cell?.node.querySelector('.jp-OutputArea .nbtrack-Chart-static');
        const plot = own ?? cell?.node.querySelector('.jp-OutputArea .js-plotly-plot');
        if (!plot) return;
        const title = plot.querySelector(own ? '.nbtrack-Chart-title' : '.gtitle')?.textContent ?? '';
        const subtitles = [...plot.querySelectorAll(own ? '.nbtrack-Chart-panelTitle' : '.annotation-text')]
            .map((a) => a.textContent);
        const running = cell.node.querySelector('.jp-InputPrompt').textContent.includes('*');
        const key = JSON.stringify([title, subtitles]);
        if (frames.length === 0 || frames[frames.length - 1].key !== key) {
            frames.push({key, title, subtitles, running, t: performance.now()});
        }
    }, tick);
}"""

#: records the kernel's error messages and stderr tracebacks (of cells and of widget callbacks alike)
WATCH_KERNEL = """() => {
    const log = [];
    window.__kernelErrors = log;
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    kernel.iopubMessage.connect((_, msg) => {
        const type = msg.header.msg_type;
        if (type === 'error') log.push(`${msg.content.ename}: ${msg.content.evalue}`);
        if (type === 'stream' && msg.content.name === 'stderr' && msg.content.text.includes('Traceback')) {
            log.push(msg.content.text);
        }
    });
}"""


def mark_cells(page: Page, names: dict[str, str]) -> None:
    """Give the cells whose code starts with each prefix a ``data-test-cell`` name to locate them by."""
    page.evaluate(
        """(names) => {
            const notebook = window.jupyterapp.shell.currentWidget.content;
            for (const [name, prefix] of Object.entries(names)) {
                const cell = notebook.widgets.find((c) => c.model.sharedModel.getSource().startsWith(prefix));
                if (!cell) throw new Error(`no cell starts with ${prefix}`);
                cell.node.dataset.testCell = name;
            }
        }""",
        names,
    )


def cell(page: Page, name: str) -> Locator:
    """The cell named ``name`` by :func:`mark_cells`."""
    return page.locator(f'[data-test-cell="{name}"]')


def chart_title_in_model(page: Page, name: str) -> str:
    """The title of the Plotly figure in the output model (not the page) of the cell called ``name``."""
    title = page.evaluate(
        """(name) => {
            const node = document.querySelector(`[data-test-cell="${name}"]`);
            const cell = window.jupyterapp.shell.currentWidget.content.widgets.find((c) => c.node === node);
            for (let i = 0; i < cell.model.outputs.length; i++) {
                const figure = cell.model.outputs.get(i).data['application/vnd.plotly.v1+json'];
                if (figure) return figure.layout.title.text;
            }
            return null;
        }""",
        name,
    )
    assert isinstance(title, str), f"no Plotly output in the {name} cell"
    return title


def row_ids(table: Locator) -> list[str]:
    """The run ids of the table's rows as drawn, top to bottom."""
    ids = table.locator(".nbt-row").evaluate_all("(rows) => rows.map((r) => r.dataset.runId)")
    return [str(i) for i in ids]


def wait_row_ids(page: Page, table: Locator, expected: list[str], timeout: float = 30.0) -> None:
    """Wait until the table shows exactly the runs ``expected``, in that order."""
    deadline = time.monotonic() + timeout
    while (shown := row_ids(table)) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"table rows are {shown}, not {expected}, after {timeout:.0f} s")
        page.wait_for_timeout(100)


def column_texts(table: Locator, column: str) -> list[str]:
    """The rendered texts of ``column`` (a ``data-column`` name) in the table's rows, top to bottom."""
    texts = table.evaluate(
        """(root, column) => {
            const heads = [...root.querySelectorAll('thead th')];
            const i = heads.findIndex((th) => th.dataset.column === column);
            if (i < 0) throw new Error(`no column ${column}`);
            return [...root.querySelectorAll('tr.nbt-row')].map((tr) => tr.children[i].textContent);
        }""",
        column,
    )
    return [str(t) for t in texts]


IMG = """<img src=x onerror="window.__nbtrack_xss=1;alert(1)">"""
SCRIPT = "<script>window.__nbtrack_xss=2</script>"
SVG = """"><svg onload=alert(3)>"""
SVG_TAG = SVG.removeprefix('">')
#: payloads on the %%track line are quoted as in a shell (shlex.quote)
TRACKED_NAME = "x" + SVG
SVG_TAG_VALUE = "xss=<svg/onload=window.__nbtrack_xss=4>"

XSS_CELLS = [
    f"%load_ext nbtrack\nimport time\nimport nbtrack\nIMG, SCRIPT, SVG = {IMG!r}, {SCRIPT!r}, {SVG!r}",
    # a run made through the API: name, experiment, param key and value, tag key and value, metric key, note
    """\
with nbtrack.start_run(name=IMG, experiment=SCRIPT, params={SVG: IMG, "lr": 0.1}, tags={IMG: SCRIPT}) as run:
    for step in range(10):
        nbtrack.log({SVG: 1 / (step + 1), IMG: step / 10})
    run.note(SCRIPT + " " + SVG)""",
    # a tracked cell: name, experiment, tag value on the magic line; payloads in its code; a live chart
    f"""\
%%track -e {shlex.quote(SCRIPT)} -t {shlex.quote(SVG_TAG_VALUE)} {shlex.quote(TRACKED_NAME)}
# {IMG}
label = "{SCRIPT}"
lr = 0.2
for step in range(40):
    nbtrack.log({{SVG: 1 / (step + 1), IMG: step / 40}})
    time.sleep(0.05)""",
    "table = nbtrack.table(experiment=SCRIPT)\ntable",
    "panel = nbtrack.compare(list(nbtrack.runs(experiment=SCRIPT)['seq']))\npanel",
]

INJECTED = """() => {
    const attrs = [...document.querySelectorAll('*')].flatMap((node) => [...node.attributes]
        .filter((a) => a.name.startsWith('on') && /alert|__nbtrack_xss/.test(a.value))
        .map((a) => `<${node.tagName.toLowerCase()} ${a.name}="${a.value}">`));
    const scripts = [...document.querySelectorAll('script')]
        .filter((s) => s.textContent.includes('__nbtrack_xss')).map((s) => s.outerHTML);
    const images = [...document.querySelectorAll('img[src="x"]')].map((i) => i.outerHTML);
    const svgs = [...document.querySelectorAll('svg[onload]')].map((s) => s.outerHTML);
    return {flag: typeof window.__nbtrack_xss, attrs, scripts, images, svgs};
}"""


def test_user_strings_never_execute_in_the_browser(
    lab: LabServer, page: Page, page_errors: list[str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:  # an unanswered alert() would block the page
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.set_viewport_size({"width": 1400, "height": 1600})  # room for the whole panel in its picture
    open_notebook(page, lab, write_notebook(tmp_path / "xss.ipynb", XSS_CELLS))
    mark_cells(page, {"tracked": "%%track", "table": "table = ", "panel": "panel = "})
    page.evaluate(WATCH_KERNEL)
    run_all(page)
    wait_idle(page)

    # the tracked cell's chart, frozen (nbtrack's SVG chart), then opened in Plotly: key and name as text
    frozen = cell(page, "tracked").locator(".jp-OutputArea .nbtrack-Chart-static")
    expect(frozen).to_be_visible()
    expect(frozen.locator(".nbtrack-Chart-panelTitle").first).to_contain_text(f"{SVG} = ")
    expect(frozen.locator(".nbtrack-Chart-title")).to_contain_text(TRACKED_NAME)
    frozen.locator(".nbtrack-Chart-interactive").click()
    live = cell(page, "tracked").locator(".jp-OutputArea .js-plotly-plot")
    expect(live).to_be_visible()
    expect(live.locator(".annotation-text").first).to_contain_text(f"{SVG} = ")
    expect(live.locator(".gtitle")).to_contain_text(TRACKED_NAME)
    expect(cell(page, "tracked").locator(".nbtrack-summary")).to_contain_text(SVG)
    screenshot(page, "panels-xss-live-chart", cell(page, "tracked").locator(".jp-OutputArea"))

    # the table: names, experiment, param key and value, metric key as text
    grid = cell(page, "table").locator(".nbtrack-table")
    expect(grid.locator(".nbt-row")).to_have_count(2)
    assert sorted(grid.locator(".nbt-name").all_text_contents()) == sorted([IMG, TRACKED_NAME])
    assert grid.locator(".nbt-experiment").all_text_contents() == [SCRIPT, SCRIPT]
    expect(grid.locator(f"th[data-column={json.dumps('params.' + SVG)}]")).to_contain_text(SVG)
    expect(grid.locator(f"th[data-column={json.dumps('metrics.' + IMG)}]")).to_contain_text(IMG)
    assert IMG in column_texts(grid, "params." + SVG)  # a param value
    assert SCRIPT in column_texts(grid, "tags." + IMG)  # a tag key and value
    grid.locator(".nbt-columns summary").click()
    expect(grid.locator(".nbt-columns-body")).to_contain_text(SVG)
    # a bad filter made of a payload: the error names it as text
    box = grid.locator(".nbt-filter")
    box.fill(IMG)
    box.press("Enter")
    expect(grid.locator(".nbt-error")).to_contain_text(IMG, timeout=30_000)
    # the tracked run's code, restored into the table
    tracked_id = kernel_value(
        page, f"[r['run_id'] for r in table.view.rows if r['name'] == {TRACKED_NAME!r}][0]"
    )
    grid.locator(f'.nbt-row[data-run-id="{tracked_id}"] .nbt-select').click()
    wait_kernel_value(page, "table.selected", [tracked_id])
    grid.locator(".nbt-restore").click()
    expect(grid.locator(".nbt-restored pre")).to_contain_text(f'label = "{SCRIPT}"', timeout=30_000)
    expect(grid.locator(".nbt-restored pre")).to_contain_text(f"# {IMG}")
    screenshot(page, "panels-xss-table", cell(page, "table").locator(".nbtrack-run-table"))

    # the comparison, every tab opened (the charts are made when their tab first shows)
    panel = cell(page, "panel").locator(".nbtrack-compare")
    expect(panel.locator(".nbtrack-compare-header")).to_contain_text(IMG)
    expect(panel.locator(".nbtrack-params")).to_contain_text(SVG)
    expect(panel.locator(".nbtrack-params")).to_contain_text(IMG)
    expect(panel.locator(".nbtrack-runs")).to_contain_text(f"{SCRIPT} {SVG}")  # the note
    expect(panel.locator(".nbtrack-metrics")).to_contain_text(IMG)
    expect(panel.locator(".nbtrack-tags")).to_contain_text(SCRIPT)
    expect(panel.locator(".nbtrack-tags")).to_contain_text(SVG_TAG_VALUE.partition("=")[2])
    screenshot(page, "panels-xss-compare-params", panel)
    kernel_value(page, "setattr(panel.curve_keys, 'value', panel.curve_keys.options) or 0")
    tabs = panel.locator(".nbtrack-compare-tabs .lm-TabBar-tab")
    for title, shows in [
        ("Curves", ".nbtrack-curves.js-plotly-plot .legendtext"),
        ("Parallel", ".nbtrack-parallel.js-plotly-plot"),
        ("Scatter", ".nbtrack-scatter.js-plotly-plot"),
        ("Code", ".nbtrack-code-diff"),
        ("Images", ".nbtrack-images"),
        ("Environment", ".nbtrack-env"),
    ]:  # one by one: each chart is made in the kernel when its tab first opens
        tabs.filter(has_text=title).click()
        expect(panel.locator(shows).first).to_be_visible(timeout=60_000)
    tabs.filter(has_text="Curves").click()
    expect(panel.locator(".nbtrack-curves .legendtext").first).to_contain_text(SVG_TAG)
    tabs.filter(has_text="Code").click()
    expect(panel.locator(".nbtrack-code-diff")).to_contain_text(f'label = "{SCRIPT}"')
    screenshot(page, "panels-xss-compare-code", panel)

    found = page.evaluate(INJECTED)
    assert found == {"flag": "undefined", "attrs": [], "scripts": [], "images": [], "svgs": []}
    assert dialogs == []
    assert page.evaluate("() => window.__kernelErrors") == []
    assert page_errors == []


@dataclass
class CompareRun:
    """compare.ipynb run once in its own tab: the tab, its errors, and the looks of the live chart."""

    page: Page
    errors: list[str]
    frames: list[dict[str, Any]]  # from WATCH_CHART, the whole run long


@pytest.fixture(scope="module")
def compare_run(browser: Browser, lab: LabServer) -> Iterator[CompareRun]:
    """Run notebooks/compare.ipynb as a user would (Run All); shared, as a run of it costs ~15 s."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    watch_errors(page, errors)
    try:
        open_notebook(page, lab, ROOT / "notebooks" / "compare.ipynb")
        mark_cells(page, {"live": LIVE_CELL, "table": "table = nbtrack.", "panel": "latest = nbtrack."})
        page.evaluate(WATCH_CHART, [LIVE_CELL, 25])
        page.evaluate(WATCH_KERNEL)
        run_all(page)
        page.wait_for_function(
            "() => window.__liveFrames.some((f) => f.running && f.title.endsWith('· running'))",
            timeout=90_000,
        )
        screenshot(page, "panels-live-chart-running", cell(page, "live").locator(".jp-OutputArea").first)
        wait_idle(page)
        with contextlib.suppress(PlaywrightTimeout):  # the last redraw may be on its way
            page.wait_for_function(
                "() => window.__liveFrames.some((f) => f.title.endsWith('· FINISHED'))", timeout=2000
            )
        frames = page.evaluate("() => { clearInterval(window.__liveTimer); return window.__liveFrames; }")
        yield CompareRun(page, errors, frames)
    finally:
        context.close()
        lab.shutdown_sessions()


@pytest.fixture
def compare_page(compare_run: CompareRun, request: pytest.FixtureRequest) -> Iterator[CompareRun]:
    """``compare_run`` for one test, with a picture of the page if the test fails (as ``page`` does)."""
    yield compare_run
    call = getattr(request.node, "report_call", None)
    if call is not None and call.failed:
        screenshot(compare_run.page, f"{request.node.name}-failed")


def test_compare_notebook_renders_the_table_the_live_chart_and_the_comparison(
    compare_page: CompareRun,
) -> None:
    from playwright.sync_api import expect

    page = compare_page.page

    # the live chart: drawn below the slow cell while it ran (the picture is panels-live-chart-running)
    first = compare_page.frames[0]
    assert first["running"] and re.fullmatch(r"run #\d+ · running", first["title"]), compare_page.frames
    assert [re.sub(r" = .*", "", s) for s in first["subtitles"]] == ["acc", "loss"], compare_page.frames
    assert all(re.fullmatch(r"\w+ = -?[\d.e+-]+", s) for s in first["subtitles"]), compare_page.frames
    # the kernel froze the chart: the cell's output model holds the final figure, which the page draws
    # with nbtrack's SVG chart (one curve per key, every point the frame has), Plotly on demand
    assert chart_title_in_model(page, "live").endswith("· FINISHED")
    frozen = cell(page, "live").locator(".jp-OutputArea .nbtrack-Chart-static")
    expect(frozen.locator(".nbtrack-Chart-title")).to_have_text(re.compile(r"run #\d+ · FINISHED"))
    assert frozen.locator(".nbtrack-Chart-panel").evaluate_all("(ps) => ps.map((p) => p.dataset.key)") == [
        "acc",
        "loss",
    ]
    paths = frozen.locator(".nbtrack-Chart-line").evaluate_all("(ls) => ls.map((l) => l.getAttribute('d'))")
    assert [len(re.findall(r"[ML]", d)) for d in paths] == [60, 60]  # the cell's 60 steps, each drawn
    screenshot(page, "panels-live-chart-frozen", cell(page, "live").locator(".jp-OutputArea").first)
    frozen.locator(".nbtrack-Chart-interactive").click()
    expect(cell(page, "live").locator(".jp-OutputArea .js-plotly-plot .scatterlayer .trace")).to_have_count(2)

    # the run table
    table = cell(page, "table").locator(".nbtrack-run-table")
    grid = table.locator(".nbtrack-table")
    expect(grid).to_have_count(1)
    expected_rows = kernel_value(page, "[r['run_id'] for r in table.view.rows]")
    assert len(expected_rows) >= 4
    wait_row_ids(page, grid, expected_rows)
    badges = grid.locator(".nbt-row .nbt-badge")
    assert badges.all_text_contents() == ["FINISHED"] * len(expected_rows)
    expect(badges.first).to_have_class(re.compile(r"\bnbt-status-finished\b"))
    times = grid.locator(".nbt-row .nbt-time").all_text_contents()
    assert times and all(re.fullmatch(r"just now|1 min ago|\d+ min ago", t) for t in times), times
    screenshot(page, "panels-run-table", table)

    # the notebook's comparison: params & metrics first, curves drawn when their tab opens
    panel = cell(page, "panel").locator(".nbtrack-compare")
    expect(panel).to_have_count(1)
    expect(panel.locator(".nbtrack-params tr.nbtrack-differs").first).to_be_visible()
    expect(panel.locator(".nbtrack-metrics .nbtrack-best").first).to_be_visible()
    screenshot(page, "panels-compare-params", panel)
    panel.locator(".nbtrack-compare-tabs .lm-TabBar-tab", has_text="Curves").click()
    curves = panel.locator(".nbtrack-curves.js-plotly-plot")
    expect(curves).to_be_visible(timeout=60_000)
    expect(curves.locator(".scatterlayer .trace")).to_have_count(4, timeout=30_000)
    screenshot(page, "panels-compare-curves", panel)

    # sorting by a metric: ascending on the first click, as the rows the kernel sends
    grid.locator('th.nbt-sortable[data-column="metrics.val_loss"]').click()
    wait_kernel_value(page, "table.view.sort", {"column": "metrics.val_loss", "descending": False})
    by_val_loss = kernel_value(page, "[r['run_id'] for r in table.view.rows]")
    wait_row_ids(page, grid, by_val_loss)
    values = [float(v) for v in column_texts(grid, "metrics.val_loss")]
    assert values == sorted(values) and len(set(values)) > 1, values
    expect(grid.locator('th[data-column="metrics.val_loss"]')).to_contain_text("▲")

    # selecting two rows: the kernel sees their run ids; Compare shows them inside the table's widget
    chosen = by_val_loss[:2]
    for run_id in chosen:
        grid.locator(f'.nbt-row[data-run-id="{run_id}"] .nbt-select').click()
    wait_kernel_value(page, "sorted(table.selected)", sorted(chosen))
    grid.locator(".nbt-compare").click()
    inner = table.locator(".nbtrack-compare")
    expect(inner).to_be_visible(timeout=30_000)
    expect(inner.locator(".nbtrack-compare-header")).to_contain_text("Comparing 2 runs")
    expect(grid.locator(".nbt-message")).to_have_text("comparing 2 runs below")
    assert sorted(kernel_value(page, "table.comparison.comparison.run_ids")) == sorted(chosen)

    # a bad filter: an inline message, rows unchanged, no traceback
    box = grid.locator(".nbt-filter")
    box.fill("metrics.loss <")
    box.press("Enter")
    error = grid.locator(".nbt-error")
    expect(error).to_be_visible(timeout=30_000)
    expect(error).not_to_be_empty()
    expect(error).not_to_contain_text("Traceback")
    assert row_ids(grid) == by_val_loss
    # a good filter: exactly the matching runs
    box.fill("params.optimizer = 'sgd'")
    box.press("Enter")
    sgd = kernel_value(
        page,
        "list(nbtrack.runs(\"params.optimizer = 'sgd'\", experiment='compare', order_by='metrics.val_loss')"
        "['run_id'])",
    )
    assert sgd
    wait_row_ids(page, grid, sgd)
    expect(error).to_be_hidden()

    assert page.evaluate("() => window.__kernelErrors") == []
    assert page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').count() == 0
    assert compare_page.errors == []


def test_the_live_chart_redraws_in_place_while_the_cell_runs_then_shows_its_final_status(
    compare_run: CompareRun,
) -> None:
    """While a %%track cell logs, its chart shows new values a few times a second, then its final status.

    What the page showed, not what the kernel sent: JupyterLab's Plotly renderer ignores display
    updates of a chart it already drew, which is why live frames go through an ``ipywidgets.Output``.
    """
    frames = compare_run.frames
    running = [f for f in frames if f["running"] and f["title"].endswith("· running")]
    assert len(running) >= 3, f"the chart was drawn {len(running)} time(s) while the cell ran: {frames}"
    assert frames[-1]["title"].endswith("· FINISHED"), f"the chart's last title is not final: {frames}"
