"""Supported helpers for testing code that uses nbtrack: an isolated store and session.

>>> with isolated_session(tmp_path / "nbtrack.db") as session:   # doctest: +SKIP
...     with nbtrack.start_run() as run: ...
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nbtrack import api
from nbtrack.config import NbtrackConfig


def make_session(store: str | Path, **settings: Any) -> api.Session:
    """A session writing to ``store`` (a path or URL) with a short flush interval by default."""
    config = NbtrackConfig(store=str(store), **{"flush_interval": 0.1, **settings})
    return api.Session(config)


@contextlib.contextmanager
def isolated_session(store: str | Path, **settings: Any) -> Iterator[api.Session]:
    """Make a fresh session on ``store`` the process default for the duration of the block."""
    session = make_session(store, **settings)
    previous = api._default.swap(session)
    try:
        yield session
    finally:
        session.tracker.close()
        session.registry.close_all()
        api._default.swap(previous)
