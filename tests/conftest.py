"""Shared fixtures: every test gets its own store file and default session."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    """A PostgreSQL server for the whole test session (skipped without binaries, except under CI)."""
    from tests.postgres import find_bindir, postgres_server

    if find_bindir() is None:
        reason = "PostgreSQL server binaries not found (apt-get install postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_base_url: str, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on the session's PostgreSQL server, for this test."""
    import hashlib
    import re

    from tests.postgres import create_database

    unique = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]
    name = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:40] + "_" + unique
    return create_database(postgres_base_url, name)
