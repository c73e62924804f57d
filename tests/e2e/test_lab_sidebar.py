"""The JupyterLab extension in real Lab and Chromium: the runs sidebar, the compare tab, jumping from
a run to its cell, and "nbtrack: Track this cell".

One notebook makes three runs in two experiments (one unnamed, one named with an HTML payload); then,
in the same page: the sidebar lists them newest first with status and metric, a bad filter shows the parser's
message inline and a good one narrows the list, grouping by experiment, two runs compared side by side,
a click on a run opening its notebook at its cell, and the toggle adding and removing `%%track`; the
cells that made runs carry badges (count, status, metric) that follow a re-run and list their runs.
Pictures go to ``test-artifacts/browser/sidebar-*.png`` and ``cell-badges.png``.
"""

from __future__ import annotations

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
    tab.locator(".nbtrack-Compare-table").wait_for(timeout=15_000)
    assert tab.locator(".nbtrack-Compare-seq").all_inner_texts() == [
        "#3",
        "#1",
    ]  # in the list's order, newest first
    lr_row = tab.locator("tr[data-key='lr'] td").all_inner_texts()
    assert lr_row == ["0.3", "0.1"]
    assert "nbtrack-mod-differs" in (tab.locator("tr[data-key='lr']").get_attribute("class") or "")
    assert tab.locator("tr[data-key='acc'] td").all_inner_texts() == ["0.9", "0.5"]
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
