"""Helpers shared by the benchmark scripts (run as ``python bench/<name>.py``, so imported by name)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def revision() -> str:
    """The commit of the nbtrack being measured, and whether its package files have local changes."""
    import nbtrack

    repo = Path(nbtrack.__file__).parent
    git = ["git", "-C", str(repo)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run([*git, "status", "--porcelain", "."], capture_output=True, text=True)
    changes = " + uncommitted changes" if dirty.stdout.strip() else ""
    return f"nbtrack {nbtrack.__version__} at {head.stdout.strip() or 'unknown commit'}{changes}"
