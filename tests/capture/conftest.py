"""A real IPython shell with the extension loaded, on the test's own store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from nbtrack.api import Session


@pytest.fixture
def shell(session: Session) -> Iterator[Any]:
    """InteractiveShell with ``%load_ext nbtrack`` done; unloaded and cleaned afterwards."""
    ip = InteractiveShell.instance()
    ip.user_ns.clear()
    ip.init_user_ns()
    ip.run_cell("%load_ext nbtrack", store_history=False)
    ext = ip._nbtrack_extension
    if ext.startup is not None:
        ext.startup.join(10)
    yield ip
    ip.run_cell("%unload_ext nbtrack", store_history=False)
