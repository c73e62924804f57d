"""A throwaway PostgreSQL server for the tests: started once per test session, a database per test.

The server binaries come from the system (Debian's ``postgresql`` package, which ``scripts/test.sh``
installs when missing). PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user. Without binaries the PostgreSQL tests skip with the reason, except under
``CI=true``, where that fails the run instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (the newest installed major version)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server on a free local port; yield its base URL (``postgresql+psycopg://...:port``)."""
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql")
    folder = Path(tempfile.mkdtemp(prefix="nbtrack-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = str(folder / "data"), _free_port()

    def run(tool: str, *args: str) -> None:
        command = _as_server_user([str(bindir / tool), "-D", data, *args])
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    run("initdb", "-A", "trust", "-U", "postgres", "-E", "UTF8")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    run("pg_ctl", "-l", str(folder / "log"), "-o", options, "-w", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        run("pg_ctl", "-m", "fast", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def create_database(base_url: str, name: str) -> str:
    """Create database ``name`` on the server at ``base_url``; return its SQLAlchemy URL."""
    import psycopg

    dsn = base_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    deadline = time.monotonic() + 10
    while True:
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')  # a test's own name, never user input
            return f"{base_url}/{name}"
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
