"""The JupyterLab extension's front-end logic (labextension/src/logic.ts) under jest, and the
package's shape: one version for the wheel and the npm package, the prebuilt bundle installed where
JupyterLab looks, one module (api.ts) talking to the server, no HTML built from strings.

The jest run needs Node.js and labextension/node_modules (made by `pip install -e .`): it skips
without them, except under CI=true where it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "labextension"
SOURCES = sorted((EXTENSION / "src").glob("*.ts"))
NPM_NAME = "nbtrack-labextension"


def _need(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _jlpm() -> str | None:
    beside_python = Path(sys.executable).with_name("jlpm")
    return str(beside_python) if beside_python.exists() else shutil.which("jlpm")


def test_jest_unit_tests_of_the_frontend_logic_pass() -> None:
    jlpm = _jlpm()
    _need(shutil.which("node") is not None, "Node.js is not installed")
    _need(jlpm is not None, "jlpm not found (pip install jupyter-builder)")
    _need(
        (EXTENSION / "node_modules" / "jest").is_dir(), "labextension/node_modules missing: pip install -e ."
    )
    assert jlpm is not None
    done = subprocess.run(
        [jlpm, "jest", "--ci", "--colors=false"],
        cwd=EXTENSION,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert re.search(r"Tests:\s+\d+ passed, \d+ total", report), report


def test_wheel_and_npm_package_have_one_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    package = json.loads((EXTENSION / "package.json").read_text())
    assert package["name"] == NPM_NAME
    assert package["version"] == project["version"]


def test_prebuilt_extension_lands_where_jupyterlab_looks() -> None:
    installed = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / NPM_NAME
    _need((installed / "package.json").exists(), f"{installed} missing: pip install -e .")
    meta = json.loads((installed / "package.json").read_text())
    assert meta["name"] == NPM_NAME
    assert meta["jupyterlab"]["_build"]["load"].startswith("static/remoteEntry.")
    assert (installed / meta["jupyterlab"]["_build"]["load"]).exists()
    install = json.loads((installed / "install.json").read_text())
    assert install["packageName"] == "nbtrack"


def test_only_api_ts_talks_to_the_server() -> None:
    assert SOURCES, "no TypeScript sources found"
    talking = [
        path.name
        for path in SOURCES
        if re.search(r"\bmakeRequest\b|\bfetch\(|XMLHttpRequest|WebSocket|EventSource", path.read_text())
    ]
    assert talking == ["api.ts"]


def test_no_html_is_built_from_strings() -> None:
    offenders = [
        path.name
        for path in SOURCES
        if re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", path.read_text())
    ]
    assert offenders == []
