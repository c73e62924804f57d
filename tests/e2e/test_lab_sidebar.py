"""The JupyterLab extension in real Lab and Chromium: the runs sidebar, the compare tab, jumping from
a run to its cell, and "nbtrack: Track this cell".

One notebook makes three runs in two experiments (one unnamed, one named with an HTML payload); then,
in the same page: the sidebar lists them newest first with status and metric, a bad filter shows the parser's
message inline and a good one narrows the list, grouping by experiment, two runs compared side by side,
a click on a run opening its notebook at its cell, and the toggle adding and removing `%%track`; the
cells that made runs carry badges (count, status, metric) that follow a re-run and list their runs.
Pictures go to ``test-artifacts/browser/sidebar-*.png`` and ``cell-badges.png``.

The second test (it runs after the first: the session's Lab has one store, and the first counts its runs)
opens the compare tab on three runs with curves, an image and different code, and goes through its
seven pages the way a user would: the best run starred and its direction flipped, the curves drawn by
Plotly, zoomed with the mouse (exact points read again) and back, smoothed; parallel coordinates, a
scatter, the code diff, the images and the environment. Pictures: ``compare-*.png``.

The third shows that cell badges follow runs another process makes while the sidebar is closed (one
change feed, held by the sidebar, the compare tab and open notebooks), that a compare tab follows a run
still going on in another process until it ends, that a run whose cell id the notebook no longer has
opens at the cell with its code, and that the sidebar pages: 200 runs, then "Show 200 more".
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from tests.e2e.lab import open_notebook, run_all, run_cell, screenshot, wait_idle, write_notebook
from tests.e2e.labserver import LabServer

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

PAYLOAD = '<img src=x onerror="window.__nbtrackXss=1">'
CELLS = [
    "%load_ext nbtrack\nimport nbtrack",
    "%%track -e alpha\nlr = 0.1\nnbtrack.log(acc=0.5)",  # unnamed, beside named runs
    "%%track -e beta second\nlr = 0.2\nnbtrack.log(acc=0.75)",
    f"%%track -e alpha '{PAYLOAD}'\nlr = 0.3\nnbtrack.log(acc=0.9)",
    "x = 1",
]
SIDEBAR = "#nbtrack-sidebar"


def _open_sidebar(page: Page) -> None:
    page.evaluate("() => window.jupyterapp.commands.execute('nbtrack:open-sidebar')")
    page.wait_for_selector(f"{SIDEBAR} .nbtrack-Run", timeout=15_000)


BADGES = """() => window.jupyterapp.shell.currentWidget.content.widgets.map((cell) => {
    const badge = cell.node.querySelector('.nbtrack-CellBadge');
    return badge ? [badge.dataset.count, badge.dataset.status, badge.textContent] : null;
})"""


def _wait_badges(page: Page, counts: list[str | None]) -> None:
    """Wait until the cells' badges read ``counts`` ("2 finished": run count and last status)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            f"(want) => JSON.stringify(({BADGES})().map((b) => b && `${{b[0]}} ${{b[1]}}`))"
            " === JSON.stringify(want)",
            arg=counts,
            timeout=10_000,
        )
    except PlaywrightTimeout:
        raise AssertionError(f"cell badges are {page.evaluate(BADGES)}, not {counts}") from None


def _seqs(page: Page) -> list[str]:
    return page.locator(f"{SIDEBAR} .nbtrack-Run-seq").all_inner_texts()


def test_sidebar_lists_searches_compares_and_jumps_to_cells(
    lab: LabServer, page: Page, page_errors: list[str], tmp_path: Path
) -> None:
    notebook = write_notebook(tmp_path / "sidebar.ipynb", CELLS)
    name = open_notebook(page, lab, notebook)
    run_all(page)
    wait_idle(page)
    _wait_badges(page, [None, "1 finished", "1 finished", "1 finished", None])
    assert page.evaluate(BADGES)[2] == ["1", "finished", "1 runfinishedacc 0.75"]

    _open_sidebar(page)
    page.wait_for_function(
        "() => document.querySelectorAll('#nbtrack-sidebar .nbtrack-Run').length === 3", timeout=15_000
    )
    assert _seqs(page) == ["#3", "#2", "#1"]
    rows = page.locator(f"{SIDEBAR} .nbtrack-Run")
    assert rows.nth(0).locator(".nbtrack-Run-name").inner_text() == PAYLOAD  # shown as text
    assert rows.nth(0).locator(".nbtrack-Status").inner_text() == "finished"
    assert rows.nth(1).locator(".nbtrack-Run-metric").inner_text() == "acc 0.75"
    assert rows.nth(1).locator(".nbtrack-Run-experiment").inner_text() == "beta"
    assert page.locator(f"{SIDEBAR} img").count() == 0
    assert page.evaluate("() => window.__nbtrackXss") is None
    screenshot(page, "sidebar-runs")

    search = page.locator(f"{SIDEBAR} .nbtrack-Sidebar-search")
    search.fill("metrics.acc >")
    search.press("Enter")
    error = page.locator(f"{SIDEBAR} .nbtrack-Sidebar-error")
    error.wait_for(state="visible", timeout=10_000)
    assert error.inner_text().strip()
    search.fill("metrics.acc > 0.6")
    search.press("Enter")
    page.wait_for_function(
        "() => document.querySelectorAll('#nbtrack-sidebar .nbtrack-Run').length === 2", timeout=10_000
    )
    assert _seqs(page) == ["#3", "#2"]
    assert not error.is_visible()
    search.fill("")
    search.press("Enter")
    page.wait_for_function(
        "() => document.querySelectorAll('#nbtrack-sidebar .nbtrack-Run').length === 3", timeout=10_000
    )

    page.locator(f"{SIDEBAR} .nbtrack-Sidebar-groupBy").select_option("experiment")
    headings = page.locator(f"{SIDEBAR} .nbtrack-Sidebar-groupHeading").all_inner_texts()
    assert [h.split()[0] for h in headings] == ["alpha", "beta"]
    page.locator(f"{SIDEBAR} .nbtrack-Sidebar-groupBy").select_option("none")

    for seq in ("1", "3"):
        page.locator(f"{SIDEBAR} .nbtrack-Run[data-seq='{seq}'] .nbtrack-Run-select").check()
    compare_button = page.locator(f"{SIDEBAR} .nbtrack-Sidebar-compare")
    assert compare_button.inner_text() == "Compare (2)"
    compare_button.click()
    tab = page.locator("#nbtrack-compare")
    tab.locator(".nbtrack-Compare-paramsTable").wait_for(timeout=15_000)
    assert tab.locator(".nbtrack-Compare-seq").all_inner_texts() == [
        "#3",
        "#1",
    ]  # in the list's order, newest first
    lr_row = tab.locator(".nbtrack-Compare-paramsTable tr[data-key='lr']")
    assert lr_row.locator("td").all_inner_texts() == ["0.3", "0.1"]
    assert "nbtrack-mod-differs" in (lr_row.get_attribute("class") or "")
    acc_row = tab.locator(".nbtrack-Compare-metricsTable tr[data-key='acc']")
    assert acc_row.locator(".nbtrack-Compare-value").all_inner_texts() == ["0.9", "0.5"]
    assert acc_row.locator(".nbtrack-mod-best .nbtrack-Compare-value").all_inner_texts() == ["0.9"]
    assert tab.locator(".nbtrack-Compare-name").nth(0).inner_text() == PAYLOAD
    screenshot(page, "sidebar-compare")

    # From run #2 to the cell that made it: the notebook comes forward with that cell active.
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:enter-command-mode')")
    page.locator(f"{SIDEBAR} .nbtrack-Run[data-seq='2'] .nbtrack-Run-main").click()
    page.wait_for_function(
        """(path) => {
            const w = window.jupyterapp.shell.currentWidget;
            return w?.context?.path === path && w.content.activeCellIndex === 2
                && w.content.activeCell.node.classList.contains('nbtrack-mod-highlight');
        }""",
        arg=name,
        timeout=15_000,
    )
    screenshot(page, "sidebar-jump")

    # "Track this cell" on the last (untracked) cell, then again to untrack it.
    source = "() => window.jupyterapp.shell.currentWidget.content.activeCell.model.sharedModel.getSource()"
    page.evaluate("() => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = 4; }")
    page.evaluate("() => window.jupyterapp.commands.execute('nbtrack:toggle-track')")
    assert page.evaluate(source) == "%%track\nx = 1"
    page.locator(".jp-NotebookPanel-toolbar .nbtrack-TrackButton").first.click()
    assert page.evaluate(source) == "x = 1"

    # Cell badges: a re-run of cell 1 counts at once; its badge lists both runs, newest first.
    run_cell(page, 1)
    wait_idle(page)
    _wait_badges(page, [None, "2 finished", "1 finished", "1 finished", None])
    badge = page.locator(".jp-Notebook .jp-Cell").nth(1).locator(".nbtrack-CellBadge")
    assert badge.locator(".nbtrack-Status").inner_text() == "finished"  # coloured by its class
    badge.click()
    menu = page.locator(".nbtrack-CellRuns")
    menu.wait_for(timeout=5_000)
    assert menu.locator(".nbtrack-CellRuns-seq").all_inner_texts() == ["#4", "#1"]
    page.wait_for_function(
        "() => [...document.querySelectorAll('.nbtrack-CellRuns-metric')].map((m) => m.textContent)"
        ".join() === 'acc 0.5,acc 0.5'",
        timeout=5_000,
    )
    screenshot(page, "cell-badges")
    menu.locator(".nbtrack-CellRuns-run[data-seq='4']").click()
    page.locator("#nbtrack-compare .nbtrack-Compare-seq").filter(has_text="#4").wait_for(timeout=10_000)
    assert menu.count() == 0

    # the browser logs the bad filter's 400 itself; nothing else may go wrong
    expected = "status of 400 (Bad Request)"
    assert [e for e in page_errors if not (expected in e and "filter=metrics.acc%20%3E&" in e)] == []


CURVE = "for step in range(3000):\n    nbtrack.log(loss=math.exp(-lr * step / 300) + 0.01, step=step)"
COMPARE_CELLS = [
    "%load_ext nbtrack\nimport math\nimport nbtrack\nimport matplotlib.pyplot as plt",
    f"%%track -e cmp baseline\nlr = 0.1\nopt = 'sgd'\n{CURVE}",
    f"%%track -e cmp '{PAYLOAD}'\nlr = 0.3\nopt = 'adam'\n{CURVE}",
    f"%%track -e cmp plotted\nlr = 0.2\nopt = 'adam'\n{CURVE}\nplt.plot([3, 1, 2])\nplt.show()",
]
COMPARE = "#nbtrack-compare"


def _page(name: str) -> str:
    return f"{COMPARE} .nbtrack-Compare-page-{name}"


def _show_page(page: Page, name: str) -> None:
    page.locator(f"{COMPARE} .nbtrack-Compare-tab-{name}").click()
    page.locator(_page(name)).wait_for(state="visible", timeout=5_000)


def _wait_text(page: Page, selector: str, text: str, timeout: float = 15_000) -> None:
    page.wait_for_function(
        "([sel, text]) => document.querySelector(sel)?.textContent.includes(text)",
        arg=[selector, text],
        timeout=timeout,
    )


def _wait_traces(page: Page, name: str, count: int, timeout: float = 15_000) -> None:
    """Wait until the chart of page ``name`` draws ``count`` line traces."""
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length === n",
        arg=[f"{_page(name)} .js-plotly-plot .scatterlayer .trace", count],
        timeout=timeout,
    )


def test_compare_tab_shows_tables_curves_zoom_and_every_view(
    lab: LabServer, page: Page, page_errors: list[str], tmp_path: Path
) -> None:
    notebook = write_notebook(tmp_path / "compare_tab.ipynb", COMPARE_CELLS)
    open_notebook(page, lab, notebook)
    run_all(page)
    wait_idle(page)
    _open_sidebar(page)
    search = page.locator(f"{SIDEBAR} .nbtrack-Sidebar-search")
    search.fill("experiment = 'cmp'")
    search.press("Enter")
    page.wait_for_function(
        "() => document.querySelectorAll('#nbtrack-sidebar .nbtrack-Run').length === 3", timeout=15_000
    )
    seqs = [s.lstrip("#") for s in _seqs(page)]
    for seq in seqs:
        page.locator(f"{SIDEBAR} .nbtrack-Run[data-seq='{seq}'] .nbtrack-Run-select").check()
    page.locator(f"{SIDEBAR} .nbtrack-Sidebar-compare").click()

    # Params & metrics: params side by side, the lowest final loss starred, then "higher is better"
    tab = page.locator(COMPARE)
    tab.locator(".nbtrack-Compare-paramsTable").wait_for(timeout=15_000)
    assert tab.locator(".nbtrack-Compare-seq").all_inner_texts() == [f"#{s}" for s in seqs]
    assert tab.locator(".nbtrack-Compare-name").all_inner_texts() == ["plotted", PAYLOAD, "baseline"]
    params = tab.locator(".nbtrack-Compare-paramsTable")
    assert params.locator("tr[data-key='lr'] td").all_inner_texts() == ["0.2", "0.3", "0.1"]
    assert "nbtrack-mod-differs" in (params.locator("tr[data-key='lr']").get_attribute("class") or "")
    loss = tab.locator(".nbtrack-Compare-metricsTable tr[data-key='loss']")
    assert loss.locator("td.nbtrack-mod-best .nbtrack-Compare-value").all_inner_texts() == [
        "0.05984"
    ]  # lr 0.3
    assert loss.locator("td").nth(1).get_attribute("class") == "nbtrack-mod-best"
    screenshot(page, "compare-params")
    loss.locator(".nbtrack-Compare-directionSelect").select_option("max")
    page.wait_for_function(
        """() => document.querySelector("#nbtrack-compare .nbtrack-Compare-metricsTable tr[data-key='loss']")
            ?.querySelectorAll('td')[2]?.classList.contains('nbtrack-mod-best')""",
        timeout=10_000,
    )  # lr 0.1 decays slowest: its last loss is the highest

    # Curves: one Plotly trace per run, downsampled; a mouse zoom reads exact points, a double click all
    _show_page(page, "curves")
    _wait_traces(page, "curves", 3, timeout=30_000)
    status = f"{_page('curves')} .nbtrack-Compare-curveStatus"
    _wait_text(page, status, "all steps:")
    assert "downsampled" in page.locator(status).inner_text()
    assert "of 9,000 points" in page.locator(status).inner_text()
    screenshot(page, "compare-curves")
    drag = page.locator(f"{_page('curves')} .nsewdrag").first.bounding_box()
    assert drag is not None
    y = drag["y"] + drag["height"] / 2
    page.mouse.move(drag["x"] + drag["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(drag["x"] + drag["width"] * 0.45, y + 2, steps=8)
    page.mouse.up()
    _wait_text(page, status, "steps ")
    text = page.locator(status).inner_text()
    assert "all" in text and "downsampled" not in text, text  # a few hundred steps: every point
    _wait_traces(page, "curves", 3, timeout=15_000)
    drag = page.locator(f"{_page('curves')} .nsewdrag").first.bounding_box()
    assert drag is not None
    page.mouse.dblclick(drag["x"] + drag["width"] / 2, drag["y"] + drag["height"] / 2)
    _wait_text(page, status, "all steps:")
    smoothing = page.locator(f"{_page('curves')} .nbtrack-Compare-smoothing")
    smoothing.evaluate("(e) => { e.value = '0.9'; e.dispatchEvent(new Event('change')); }")
    _wait_traces(page, "curves", 6, timeout=15_000)  # each curve smoothed, over its raw line

    # Parallel coordinates and scatter
    _show_page(page, "parallel")
    page.locator(f"{_page('parallel')} .js-plotly-plot").wait_for(timeout=15_000)
    screenshot(page, "compare-parallel")
    _show_page(page, "scatter")
    page.wait_for_function(
        f"() => document.querySelectorAll('{_page('scatter')} .scatterlayer .point').length === 3",
        timeout=15_000,
    )
    page.locator(f"{_page('scatter')} .nbtrack-Compare-scatterParam").select_option("opt")
    page.wait_for_function(
        f"""() => [...document.querySelectorAll('{_page("scatter")} .xtick text')].map((t) => t.textContent)
            .sort().join() === 'adam,sgd'""",
        timeout=15_000,
    )

    # Code: the first run's cell against the second's
    _show_page(page, "code")
    tab.locator(".nbtrack-Diff-line").first.wait_for(timeout=10_000)
    deleted = tab.locator(".nbtrack-Diff-del .nbtrack-Diff-text").all_inner_texts()
    minus = "\N{MINUS SIGN}"  # how the diff marks a deleted line
    assert deleted == [f"{minus} lr = 0.2", f"{minus} plt.plot([3, 1, 2])", f"{minus} plt.show()"]
    assert tab.locator(".nbtrack-Diff-add .nbtrack-Diff-text").all_inner_texts() == ["+ lr = 0.3"]
    assert tab.locator(".nbtrack-Diff-same").count() == 3  # opt and the loop
    tab.locator(".nbtrack-Compare-codeSecond").select_option("2")
    _wait_text(page, f"{_page('code')} .nbtrack-Diff-line.nbtrack-Diff-add", "lr = 0.1")

    # Images: the plot the third cell drew, fetched with the page's credentials
    _show_page(page, "images")
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{_page('images')} img')].some((i) => i.naturalWidth > 100)",
        timeout=15_000,
    )
    assert tab.locator(".nbtrack-Images-run").nth(0).locator("img").count() == 1
    assert tab.locator(".nbtrack-Images-run").nth(1).locator("img").count() == 0
    screenshot(page, "compare-images")

    # Environment: where the runs ran
    _show_page(page, "env")
    assert tab.locator(".nbtrack-Compare-envTable tr[data-key='python'] td").count() == 3

    assert page.evaluate("() => window.__nbtrackXss") is None
    assert tab.locator("img[src='x']").count() == 0
    assert page_errors == []


def _elsewhere(lab: LabServer, code: str) -> None:
    """Run ``code`` in another process writing the Lab's store (a script, a teammate's kernel)."""
    env = {**os.environ, "NBTRACK_STORE": str(lab.store_path)}
    subprocess.run([sys.executable, "-c", "import nbtrack\n" + code], env=env, check=True, timeout=120)


def _elsewhere_in_background(lab: LabServer, code: str) -> subprocess.Popen[bytes]:
    """Start ``code`` in another process writing the Lab's store, and return that process."""
    env = {**os.environ, "NBTRACK_STORE": str(lab.store_path)}
    return subprocess.Popen([sys.executable, "-c", "import nbtrack\n" + code], env=env)


def test_badges_and_compare_tab_follow_runs_made_elsewhere_and_the_sidebar_pages(
    lab: LabServer, page: Page, page_errors: list[str], tmp_path: Path
) -> None:
    notebook = write_notebook(
        tmp_path / "elsewhere.ipynb", ["%load_ext nbtrack", "%%track -e elsewhere\nx = 1"]
    )
    open_notebook(page, lab, notebook)
    run_all(page)
    wait_idle(page)
    _wait_badges(page, [None, "1 finished"])
    # The sidebar stays closed: the badges follow the change feed on their own.
    assert not page.locator(SIDEBAR).is_visible()
    _elsewhere(
        lab,
        "(run,) = nbtrack.runs(\"experiment = 'elsewhere'\").itertuples()\n"
        "info = nbtrack.get_run(run.run_id).info\n"
        "nbtrack.start_run(experiment='elsewhere', notebook=info.notebook, cell_id=info.cell_id).end()",
    )  # a run of the same cell, made by another process
    page.wait_for_function(
        f"() => ({BADGES})()[1]?.[0] === '2'",
        timeout=15_000,
    )
    assert not page.locator(SIDEBAR).is_visible()

    # A run going on in another process: its compare tab follows it while it logs, then ends.
    flag = tmp_path / "go-on"
    live = _elsewhere_in_background(
        lab,
        "import pathlib, time\n"
        "with nbtrack.start_run(name='live', experiment='live') as run:\n"
        "    for step in range(10):\n"
        "        run.log(loss=1 / (step + 1), step=step)\n"
        "    run.flush()\n"
        f"    while not pathlib.Path({str(flag)!r}).exists():\n"
        "        time.sleep(0.05)\n"
        "    for step in range(10, 25):\n"
        "        run.log(loss=1 / (step + 1), step=step)\n",
    )
    try:
        _open_sidebar(page)
        search = page.locator(f"{SIDEBAR} .nbtrack-Sidebar-search")
        search.fill("experiment = 'live'")
        search.press("Enter")
        page.wait_for_function(
            "() => document.querySelectorAll('#nbtrack-sidebar .nbtrack-Run').length === 1", timeout=15_000
        )
        page.locator(f"{SIDEBAR} .nbtrack-Run .nbtrack-Run-select").check()
        page.locator(f"{SIDEBAR} .nbtrack-Sidebar-compare").click()
        page.locator(f"{COMPARE} .nbtrack-Compare-chip").wait_for(timeout=15_000)  # it has no params
        _show_page(page, "curves")
        status = f"{_page('curves')} .nbtrack-Compare-curveStatus"
        _wait_text(page, status, "all 10 points")
        assert page.locator(f"{COMPARE} .nbtrack-Compare-chip .nbtrack-Status").inner_text() == "running"
        flag.touch()
        assert live.wait(timeout=60) == 0
    finally:
        live.kill()
    _wait_text(page, status, "all 25 points", timeout=20_000)  # no click: the tab followed the run
    _wait_text(page, f"{COMPARE} .nbtrack-Compare-chip .nbtrack-Status", "finished", timeout=10_000)
    _wait_traces(page, "curves", 1)

    # A run whose cell id the notebook no longer has (rebuilt, or copied): found by its code instead.
    _elsewhere(
        lab,
        "(run,) = nbtrack.runs(\"experiment = 'elsewhere'\").head(1).itertuples()\n"
        "info = nbtrack.get_run(run.run_id).info\n"
        "nbtrack.start_run(experiment='moved', notebook=info.notebook, cell_id='gone', source='x = 1').end()",
    )
    search = page.locator(f"{SIDEBAR} .nbtrack-Sidebar-search")
    search.fill("experiment = 'moved'")
    search.press("Enter")
    page.wait_for_function(
        "() => document.querySelectorAll('#nbtrack-sidebar .nbtrack-Run').length === 1", timeout=15_000
    )
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.locator(f"{SIDEBAR} .nbtrack-Run .nbtrack-Run-main").click()
    try:
        page.wait_for_function(
            """() => {
                const w = window.jupyterapp.shell.currentWidget;
                return w?.context?.path === 'elsewhere.ipynb' && w.content.activeCellIndex === 1
                    && w.content.activeCell.node.classList.contains('nbtrack-mod-highlight');
            }""",
            timeout=15_000,
        )
    except PlaywrightTimeout:
        toasts = page.locator(".Toastify__toast").all_inner_texts()
        shown = page.evaluate("() => window.jupyterapp.shell.currentWidget?.title.label")
        raise AssertionError(
            f"the run's cell was not shown; current tab {shown!r}, notices {toasts}"
        ) from None

    _elsewhere(lab, "for i in range(205):\n    nbtrack.start_run(experiment='many', params={'i': i}).end()")
    search.fill("experiment = 'many'")
    search.press("Enter")
    count = page.locator(f"{SIDEBAR} .nbtrack-Sidebar-count")
    _wait_text(page, f"{SIDEBAR} .nbtrack-Sidebar-count", "200 of 205 runs")
    assert page.locator(f"{SIDEBAR} .nbtrack-Run").count() == 200
    more = page.locator(f"{SIDEBAR} .nbtrack-Sidebar-more")
    assert more.is_visible()
    more.click()
    _wait_text(page, f"{SIDEBAR} .nbtrack-Sidebar-count", "205 of 205 runs")
    assert page.locator(f"{SIDEBAR} .nbtrack-Run").count() == 205
    assert _seqs(page)[-1] == f"#{int(_seqs(page)[0][1:]) - 204}"  # oldest last, none twice
    assert not more.is_visible()
    assert count.inner_text() == "205 of 205 runs"
    assert page_errors == []
