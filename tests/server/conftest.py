"""A real jupyter_server with nbtrack's extension (pytest-jupyter's fixtures, for this folder only).

The fixtures are imported here rather than registered as a plugin: pytest-jupyter's autouse fixtures
(an event loop and a server clean-up per test) then apply to these tests alone.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_jupyter.jupyter_core import *  # noqa: F403
from pytest_jupyter.jupyter_server import *  # noqa: F403

from nbtrack.api import Session


@pytest.fixture
def jp_server_config(session: Session) -> dict[str, Any]:
    """The server loads nbtrack's extension, as the wheel's jupyter_server_config.d file makes it do.

    It asks for ``session`` so that NBTRACK_STORE names the test's store before the server starts.
    """
    return {"ServerApp": {"jpserver_extensions": {"nbtrack": True}}}
