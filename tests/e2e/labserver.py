"""A throwaway JupyterLab server for the browser tests, isolated from the machine's Jupyter setup.

:func:`lab_server` starts ``<this python> -m jupyter lab`` headless on 127.0.0.1 and a free port, with
a random token, and yields a :class:`LabServer` once the server answers. Everything the server reads
or writes lives in one temp folder: its root (the notebooks the tests open), its settings, workspaces,
runtime, config and data folders (so no user-level kernelspec or setting leaks in), ``IPYTHONDIR``,
and the nbtrack store: kernels the server starts inherit ``NBTRACK_STORE=<folder>/store/nbtrack.db``
and no other ``NBTRACK_*`` variable of the test process.

Two user settings make the UI testable: no "get Jupyter news?" toast over the screenshots, and
notebook windowing off so that cells outside the viewport render too.

The server runs in its own process group. At exit it gets SIGTERM (jupyter_server then shuts its
kernels down); whatever is still alive a few seconds later, kernels included (they run in their own
sessions), is killed.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

#: user settings (JUPYTERLAB_SETTINGS_DIR layout: <package>/<plugin>.jupyterlab-settings)
LAB_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}

#: how long a cold server may take to answer (about 3 s here; a first start compiles nothing)
START_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: where it listens, its token, and the folders and store its kernels use."""

    url: str
    token: str
    root_dir: Path
    store_path: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def lab_url(self, notebook: str, workspace: str | None = None) -> str:
        """URL that opens ``notebook`` (relative to the root) in Lab, in a fresh ``workspace`` if given.

        A named workspace starts empty, so notebooks opened by earlier tests are not restored.
        """
        prefix = f"/lab/workspaces/{quote(workspace)}" if workspace else "/lab"
        return f"{self.url}{prefix}/tree/{quote(notebook)}?token={self.token}"

    def api(self, method: str, path: str) -> Any:
        """Call the server's REST API (``path`` like ``/api/sessions``) and return the decoded JSON."""
        request = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_sessions(self) -> None:
        """Shut down every notebook session and its kernel, so the next test starts from none."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log, for error messages."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_lab_settings(settings_dir: Path) -> None:
    """Write :data:`LAB_SETTINGS` as user settings under ``settings_dir``."""
    for plugin, values in LAB_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def server_env(base: Path, store_path: Path) -> dict[str, str]:
    """The server's environment: isolated Jupyter folders, this venv first on PATH, our store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "JUPYTER", "JPY_"))}
    for var, sub in [
        ("JUPYTERLAB_SETTINGS_DIR", "settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("IPYTHONDIR", "ipython"),
    ]:
        (base / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(base / sub)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["NBTRACK_STORE"] = str(store_path)
    return env


@contextmanager
def lab_server(base: Path) -> Iterator[LabServer]:
    """Start JupyterLab with everything under the empty folder ``base``; stop it and its kernels at exit."""
    root, store_path = base / "root", base / "store" / "nbtrack.db"
    root.mkdir(parents=True)
    store_path.parent.mkdir(parents=True)
    env = server_env(base, store_path)
    write_lab_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
        "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    log_path = base / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, root, store_path, log_path, process)
    try:
        wait_until_answering(server)
        yield server
    finally:
        stop(server)


def wait_until_answering(server: LabServer, timeout: float = START_TIMEOUT_S) -> None:
    """Poll ``/api/status`` until the server answers; fail with its log if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with code {server.process.returncode} before answering; "
                f"its log ({server.log_path}):\n{server.log_tail()}"
            )
        try:
            server.api("GET", "/api/status")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError(
        f"jupyter lab did not answer on {server.url} within {timeout:.0f} s; "
        f"its log ({server.log_path}):\n{server.log_tail()}"
    )


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc), kernels included though they run in their own session."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def stop(server: LabServer, grace: float = 10.0) -> None:
    """Stop the server gracefully (it shuts its kernels down), then kill whatever of it is left."""
    process = server.process
    if process.poll() is not None:
        return
    left_behind = descendants(process.pid)
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for pid in left_behind:
        with suppress(ProcessLookupError):  # gone already, as it should be
            os.kill(pid, signal.SIGKILL)
