"""The wheel a user installs: built from this checkout, installed with pip and no Node.js on the PATH,
it enables the server extension and gives JupyterLab the prebuilt front-end.

Building needs the labextension built first (``pip install -e .`` does it; the build then reuses it,
as a wheel built from an sdist does); it skips without it, except under CI=true where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILT = ROOT / "nbtrack" / "labextension" / "static" / "style.js"
SHARE = "share/jupyter/labextensions/nbtrack-labextension"


def _without_node(env: dict[str, str]) -> dict[str, str]:
    """``env`` with every PATH folder that holds a ``node`` or ``npm`` left out."""
    folders = [
        f for f in env.get("PATH", "").split(os.pathsep)
        if f and not any((Path(f) / tool).exists() for tool in ("node", "npm", "jlpm"))
    ]  # fmt: skip
    return {**env, "PATH": os.pathsep.join([str(Path(sys.executable).parent), *folders])}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not BUILT.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{BUILT} missing: the labextension was not built (pip install -e .)")
        pytest.skip(f"{BUILT} missing: pip install -e . builds the labextension")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        timeout=600,
    )
    (built,) = out.glob("nbtrack-*.whl")
    return built


def test_the_wheel_carries_the_prebuilt_extension_and_the_server_config(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(n.split("/")[0] for n in names if ".data/" in n)
    meta = json.loads(zipfile.ZipFile(wheel).read(f"{data}/data/{SHARE}/package.json"))
    assert f"{data}/data/{SHARE}/{meta['jupyterlab']['_build']['load']}" in names
    assert f"{data}/data/{SHARE}/install.json" in names
    assert f"{data}/data/etc/jupyter/jupyter_server_config.d/nbtrack.json" in names
    assert not any(n.endswith(".ts") and not n.endswith(".d.ts") for n in names)  # sources stay out


def test_pip_install_without_node_gives_jupyter_the_extensions(wheel: Path, tmp_path: Path) -> None:
    # A fresh virtualenv (so this checkout's editable install is left alone), seeing this one's
    # packages (jupyter, the dependencies) through a .pth line after its own site-packages.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "zz_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = _without_node(dict(os.environ))
    assert shutil.which("node", path=env["PATH"]) is None
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--quiet", str(wheel)],
        check=True,
        env=env,
        timeout=300,
    )
    env |= {"JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_DATA_DIR": str(tmp_path / "data")}

    def run(*args: str) -> str:
        done = subprocess.run(
            [str(python), *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            cwd=tmp_path,
        )
        return done.stdout + done.stderr

    assert run("-c", "import nbtrack; print(nbtrack.__file__)").startswith(str(site))
    # modules, not the `jupyter` launcher: it would run the `jupyter-*` commands of this checkout's venv
    listing = run("-m", "jupyterlab.labextensions", "list")
    assert str(venv / "share" / "jupyter" / "labextensions") in listing, listing
    line = next(x for x in listing.splitlines() if "nbtrack-labextension" in x)
    assert "enabled" in line and "OK" in line and "nbtrack" in line, listing
    listing = run("-m", "jupyter_server.extension.serverextension", "list")
    assert str(venv / "etc" / "jupyter") in listing  # enabled by the wheel's config file
    assert any("nbtrack" in x and "enabled" in x for x in listing.splitlines()), listing
    assert any("nbtrack" in x and "OK" in x for x in listing.splitlines()), listing
