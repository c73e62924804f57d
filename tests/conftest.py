"""Shared fixtures: every test gets its own store file and default session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nbtrack.api import Session
from nbtrack.testing import isolated_session


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Path of a fresh SQLite store file for this test."""
    return tmp_path / "store" / "nbtrack.db"


@pytest.fixture
def session(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """A fresh default session on the test's own store (nbtrack.start_run etc. use it)."""
    monkeypatch.setenv("NBTRACK_STORE", str(store_path))
    with isolated_session(store_path) as s:
        yield s
