"""Drive a real JupyterLab in headless Chromium: the helpers browser tests are written with.

The fixtures in ``tests/e2e/conftest.py`` give a test ``lab`` (one server for the session, see
:mod:`tests.e2e.labserver`), ``page`` (a fresh browser context and tab) and ``page_errors`` (console
errors and uncaught exceptions of that page). A test then reads like what a person does::

    nb = write_notebook(tmp_path / "demo.ipynb", ["import nbtrack", "nbtrack.runs()"])
    open_notebook(page, lab, nb)          # kernel connected and idle when it returns
    run_all(page)
    wait_idle(page)                       # every cell has finished
    page.wait_for_selector(".widget-slider")
    assert kernel_value(page, "len(clicks)") == 1
    screenshot(page, "demo")
    assert page_errors == []

Facts these rely on (JupyterLab 4, checked by hand): a notebook without a kernelspec in its metadata
opens a "Select Kernel" dialog and never starts a kernel, so :func:`write_notebook` always writes one;
the toolbar says "idle" before any kernel is attached, so readiness is read from the notebook panel's
``sessionContext`` (``window.jupyterapp`` exists because the server runs with
``--LabApp.expose_app_in_browser``); the Run menu's "Run All Cells" is the ``runmenu:run-all``
command, and the promise of a run command settles when its cells have finished.

Playwright's sync API marks its asyncio loop as running in the main thread from its first call until
it stops (microsoft/playwright-pytest#167), so ``asyncio.run`` (nbclient, :mod:`tests.e2e.kernel`)
fails meanwhile. The conftest therefore runs browser tests after all others; a browser test that
needs asyncio itself wraps that code in :func:`asyncio_outside_playwright`.

Browser binaries: Debian's ``/usr/bin/chromium`` (``apt-get install chromium``; ``scripts/test.sh``
does it). Never ``playwright install``: it downloads a browser build, which this project can't.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
import pytest

from tests.e2e.labserver import LabServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, ViewportSize

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in a container
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no calls home: the network has only package registries
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1400, "height": 1000}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
KERNELSPEC = {"name": "python3", "language": "python", "display_name": "Python 3 (ipykernel)"}

#: seconds the waits below allow: a cold kernel starts in ~3 s, widget-heavy notebooks run in ~5 s
KERNEL_READY_TIMEOUT_S = 60.0
RUN_TIMEOUT_S = 120.0


def browser_unavailable_reason() -> str | None:
    """Why browser tests can't run here (a missing piece and how to install it), or None if they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install chromium, or run scripts/test.sh as root)"
    for module, package in [("playwright", "playwright"), ("jupyterlab", "jupyterlab")]:
        if importlib.util.find_spec(module) is None:
            return f"Python package {package!r} not installed (.venv/bin/pip install -e '.[dev]')"
    return None


def require_browser() -> None:
    """Skip the calling test when the browser pieces are missing; fail instead under CI (CI=true)."""
    reason = browser_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests can't run in CI: {reason}")
    pytest.skip(reason)


def write_notebook(path: Path, cells: Sequence[str]) -> Path:
    """Write a notebook of code ``cells`` with the python3 kernelspec Lab needs to start a kernel."""
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells],
        metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@contextmanager
def chromium() -> Iterator[Browser]:
    """Launch Debian's Chromium headless through Playwright; close it and Playwright at exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def asyncio_outside_playwright() -> Iterator[None]:
    """Let ``asyncio.run`` work in a browser test: hide Playwright's loop, and restore it after.

    Make no Playwright call inside the block: Playwright expects its loop marked as running.
    """
    loop = asyncio._get_running_loop()
    asyncio._set_running_loop(None)
    try:
        yield
    finally:
        asyncio._set_running_loop(loop)


def watch_errors(page: Page, errors: list[str]) -> None:
    """Append the page's console errors and uncaught exceptions to ``errors`` as they happen."""

    def on_console(message: Any) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            errors.append(f"console.error: {message.text}" + (f" ({where})" if where else ""))

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))


def open_notebook(
    page: Page, lab: LabServer, notebook: Path, *, name: str | None = None, wait_kernel: bool = True
) -> str:
    """Copy ``notebook`` into the server's root (as ``name``), open it in Lab, wait for its kernel.

    Each call opens a fresh, uniquely named workspace so notebooks of earlier tests are not restored.
    Returns the notebook's path relative to the server root.
    """
    name = name or notebook.name
    target = lab.root_dir / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if notebook.resolve() != target.resolve():
        target.write_bytes(notebook.read_bytes())
    workspace = "t" + os.urandom(4).hex()
    page.goto(lab.lab_url(name, workspace=workspace))
    _wait(
        page,
        "(path) => window.jupyterapp?.shell?.currentWidget?.context?.path === path",
        name,
        KERNEL_READY_TIMEOUT_S,
        f"Lab to show {name}",
    )
    if wait_kernel:
        wait_kernel_ready(page)
    return name


def wait_kernel_ready(page: Page, timeout: float = KERNEL_READY_TIMEOUT_S) -> None:
    """Wait until the current notebook's kernel is connected and idle (not the toolbar's "idle").

    Fails at once if Lab shows a dialog instead (e.g. "Select Kernel": no kernelspec in the notebook).
    """
    what = "the notebook's kernel to be connected and idle"
    _wait(
        page,
        """() => {
            if (document.querySelector('.jp-Dialog')) return true;  // reported below
            const sc = window.jupyterapp?.shell?.currentWidget?.sessionContext;
            const kernel = sc?.session?.kernel;
            return !!(sc?.isReady && kernel && kernel.connectionStatus === 'connected'
                      && kernel.status === 'idle');
        }""",
        None,
        timeout,
        what,
    )
    if page.locator(".jp-Dialog").count():
        raise AssertionError(f"Lab showed a dialog while waiting for {what}: {_lab_state(page)}")


def run_all(page: Page) -> None:
    """Run all cells, as Run ▸ Run All Cells does; returns at once (then call :func:`wait_idle`)."""
    _start_command(page, "runmenu:run-all")


def run_cell(page: Page, index: int) -> None:
    """Run the code cell at ``index`` of the current notebook; returns at once (see :func:`wait_idle`)."""
    page.evaluate(
        """(i) => {
            const notebook = window.jupyterapp.shell.currentWidget.content;
            notebook.deselectAll();  // the command runs every selected cell, not just the active one
            notebook.activeCellIndex = i;
        }""",
        index,
    )
    _start_command(page, "notebook:run-cell")


def wait_idle(page: Page, timeout: float = RUN_TIMEOUT_S) -> None:
    """Wait until every run started by this module has finished, the kernel is idle, no cell is ``[*]``."""
    _wait(
        page,
        """() => {
            const panel = window.jupyterapp?.shell?.currentWidget;
            const kernel = panel?.sessionContext?.session?.kernel;
            const pending = [...(panel?.node.querySelectorAll('.jp-InputPrompt') ?? [])]
                .some((p) => p.textContent.includes('*'));
            return (window.__labRunsPending ?? 0) === 0 && kernel?.status === 'idle' && !pending;
        }""",
        None,
        timeout,
        "the notebook's cells to finish and its kernel to be idle",
    )
    failed = page.evaluate("() => window.__labRunErrors ?? []")
    if failed:
        raise AssertionError(f"a run command failed in the page: {failed}")


def kernel_eval(page: Page, code: str, timeout: float = RUN_TIMEOUT_S) -> str:
    """Execute ``code`` in the current notebook's kernel (not in a cell) and return what it printed.

    Displayed results (``execute_result``) are appended as their text/plain. A Python exception in
    the kernel raises AssertionError with its traceback text.
    """
    reply = page.evaluate(
        """async (code) => {
            const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
            const future = kernel.requestExecute({code, store_history: false});
            let out = '', error = null;
            future.onIOPub = (msg) => {
                const c = msg.content;
                if (msg.header.msg_type === 'stream') out += c.text;
                else if (msg.header.msg_type === 'execute_result') out += c.data['text/plain'] + '\\n';
                else if (msg.header.msg_type === 'error') error = c.traceback.join('\\n');
            };
            await future.done;
            return {out, error};
        }""",
        code,
    )
    if reply["error"] is not None:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", reply["error"])
        raise AssertionError(f"kernel raised while running {code!r}:\n{plain}")
    return str(reply["out"])


def kernel_value(page: Page, expression: str) -> Any:
    """The value of a JSON-serialisable Python ``expression`` evaluated in the notebook's kernel."""
    out = kernel_eval(page, f"import json as _j; print(_j.dumps({expression}))")
    return json.loads(out)


def wait_kernel_value(page: Page, expression: str, expected: Any, timeout: float = 10.0) -> None:
    """Poll the kernel until ``expression`` equals ``expected``: widget updates reach it asynchronously.

    ipywidgets holds back a model's further updates until the kernel has handled the previous one,
    so right after a few key presses the kernel may still see an older value.
    """
    deadline = time.monotonic() + timeout
    while (value := kernel_value(page, expression)) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"kernel: {expression} is {value!r} after {timeout:.0f} s, not {expected!r}")
        time.sleep(0.1)


def screenshot(page: Page, name: str, element: Locator | None = None) -> Path:
    """Save a PNG of the page, or of just ``element`` (scrolled into view), as
    ``test-artifacts/browser/<name>.png`` and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    (element or page).screenshot(path=str(path))
    return path


def _start_command(page: Page, command: str) -> None:
    """Start a Lab command and count it as pending until its promise settles (read by wait_idle)."""
    page.evaluate(
        """(command) => {
            window.__labRunsPending = (window.__labRunsPending ?? 0) + 1;
            window.jupyterapp.commands.execute(command)
                .catch((e) => { (window.__labRunErrors ??= []).push(`${command}: ${e}`); })
                .finally(() => { window.__labRunsPending -= 1; });
        }""",
        command,
    )


def _wait(page: Page, predicate: str, arg: Any, timeout: float, what: str) -> None:
    """Wait until the JS ``predicate`` holds; on timeout, fail saying what Lab showed instead."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(predicate, arg=arg, timeout=timeout * 1000, polling=100)
    except PlaywrightTimeout:
        raise AssertionError(
            f"timed out after {timeout:.0f} s waiting for {what}; Lab showed: {_lab_state(page)}"
        ) from None


def _lab_state(page: Page) -> str:
    """What Lab shows now (current tab, kernel state, prompts, any dialog), for timeout messages."""
    state = page.evaluate(
        """() => {
            const panel = window.jupyterapp?.shell?.currentWidget;
            const kernel = panel?.sessionContext?.session?.kernel;
            return {
                app: !!window.jupyterapp,
                widget: panel?.title?.label ?? null,
                sessionReady: panel?.sessionContext?.isReady ?? null,
                kernel: kernel ? `${kernel.name} ${kernel.connectionStatus}/${kernel.status}` : null,
                prompts: [...document.querySelectorAll('.jp-InputPrompt')].map((p) => p.textContent),
                dialog: document.querySelector('.jp-Dialog')?.textContent ?? null,
            };
        }"""
    )
    return json.dumps(state)
