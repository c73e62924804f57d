"""Fixtures of the browser tests: one JupyterLab and one Chromium per session, a fresh tab per test.

- ``lab``: the session's :class:`~tests.e2e.labserver.LabServer` (root folder, token, ``store_path``
  of the SQLite store its kernels write to). Each test's notebook sessions are shut down after it.
- ``browser``: the session's headless Chromium.
- ``page``: a new browser context (1400x1000) and tab for the test; on failure its screenshot is saved
  as ``test-artifacts/browser/<test>-failed.png``.
- ``page_errors``: console errors and uncaught exceptions of ``page`` (a list to assert empty).

Any test that uses ``lab`` or ``page`` is marked ``browser`` (``-m "not browser"`` leaves them out)
and runs after all the other tests of the session.
They skip when Chromium, Playwright or JupyterLab is missing, and fail instead under CI=true.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.e2e.lab import VIEWPORT, chromium, require_browser, screenshot, watch_errors
from tests.e2e.labserver import LabServer, lab_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

BROWSER_FIXTURES = {"lab", "browser", "page"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the browser fixtures as ``browser``, and run those tests last.

    Last, because from the session's first Playwright call on, ``asyncio.run`` fails in this process
    (see :mod:`tests.e2e.lab`), and other tests use it.
    """
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)  # stable: keeps order


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item, so ``page`` can tell whether its test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """One JupyterLab server for the whole session (its log is ``server.log`` beside its root)."""
    require_browser()
    with lab_server(tmp_path_factory.mktemp("lab")) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    require_browser()
    with chromium() as b:
        yield b


@pytest.fixture
def page_errors() -> list[str]:
    """Console errors and uncaught exceptions of this test's ``page``, in the order they happened."""
    return []


@pytest.fixture
def page(
    browser: Browser, lab: LabServer, page_errors: list[str], request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A tab in a fresh browser context; afterwards the context closes and the test's kernels stop."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    tab = context.new_page()
    watch_errors(tab, page_errors)
    try:
        yield tab
    finally:
        call = getattr(request.node, "report_call", None)
        if call is not None and call.failed:
            screenshot(tab, f"{request.node.name}-failed")
        context.close()
        lab.shutdown_sessions()
