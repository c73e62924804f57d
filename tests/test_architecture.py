"""The layer rules of ARCHITECTURE.md, and that `import nbtrack` stays light."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import nbtrack

PACKAGE = Path(nbtrack.__file__).parent
LEAVES = {"errors", "model", "config"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "model": set(),
    "config": {"errors"},
    "store": LEAVES,
    "tracking": LEAVES | {"store"},
    "capture": LEAVES | {"tracking"},
    "query": LEAVES | {"store"},
    "ui": LEAVES | {"query", "tracking"},
    "server": LEAVES | {"query"},
    "cli": LEAVES | {"query", "tracking", "store"},
    "interop": LEAVES | {"query", "tracking", "store"},
}
HEAVY = ["pandas", "sqlalchemy", "numpy", "plotly", "ipywidgets", "alembic", "fsspec", "IPython", "typing"]


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "nbtrack" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_layers_import_downward_only() -> None:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        own = _layer(".".join(rel.parts))
        if own not in ALLOWED:
            continue  # the facade (api, testing, __init__) may use every layer
        for name in _imports(path):
            target = _layer(name)
            if target is None or target == own or target not in ALLOWED:
                continue
            if target not in ALLOWED[own]:
                problems.append(f"{rel}: {own} imports {name}")
    assert problems == []


def test_ui_server_and_capture_never_import_sql() -> None:
    for layer in ("ui", "server", "capture"):
        for path in (PACKAGE / layer).rglob("*.py") if (PACKAGE / layer).exists() else []:
            names = _imports(path)
            assert not any(n.split(".")[0] in {"sqlalchemy", "sqlite3"} for n in names), path


def test_import_nbtrack_loads_no_heavy_module() -> None:
    code = f"import sys, json, nbtrack; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_public_names_resolve() -> None:
    for name in nbtrack.__all__:
        assert getattr(nbtrack, name) is not None
