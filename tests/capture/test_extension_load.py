"""``%load_ext nbtrack`` stays cheap on the kernel's thread: no store, no query layer until first use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HEAVY = ["sqlalchemy", "numpy", "pandas", "plotly", "ipywidgets", "alembic", "fsspec", "nbtrack.cli.magic"]

#: Loads the extension in a fresh shell with the background store check switched off, so what is in
#: sys.modules afterwards is what loading imported on the caller's thread; then uses ``%track``.
SCRIPT = f"""
import json, sys
from IPython.core.interactiveshell import InteractiveShell
import nbtrack.extension

nbtrack.extension._startup = lambda: None
ip = InteractiveShell.instance()
ip.run_line_magic("load_ext", "nbtrack")
loaded = [m for m in {HEAVY!r} if m in sys.modules]
ip.run_line_magic("track", "experiment later")
print(json.dumps([loaded, ip._nbtrack_extension.controller.default_experiment,
                  "nbtrack.cli.magic" in sys.modules]))
"""


def test_loading_the_extension_imports_neither_the_store_nor_the_track_line_magic(tmp_path: Path) -> None:
    env = {**os.environ, "NBTRACK_STORE": str(tmp_path / "nbtrack.db")}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, cwd=tmp_path, env=env
    )
    loaded, experiment, line_magic_imported = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == []
    assert experiment == "later"  # %track reached the real line magic, imported on this first use
    assert line_magic_imported


def test_unload_removes_the_lazy_track_line_magic(shell: Any) -> None:
    manager = shell.magics_manager
    assert "track" in manager.magics["line"]
    shell.run_line_magic("unload_ext", "nbtrack")
    assert "track" not in manager.magics["line"]
    assert not hasattr(manager.user_magics, "track")
    shell.run_line_magic("load_ext", "nbtrack")  # the fixture unloads it again
