"""The README's Python examples run as written, against a fresh store."""

from __future__ import annotations

import re
from pathlib import Path

from nbtrack.api import Session

README = Path(__file__).parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_python_examples_run_in_order(session: Session, capsys: object) -> None:
    blocks = _python_blocks()
    assert len(blocks) >= 3
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # our own README, on purpose
    run = namespace["run"]
    r = namespace["r"]
    assert r.seq == run.seq  # type: ignore[attr-defined]
    assert r.params == {"lr": 0.001, "layers": [64, 32], "batch_size": 32}  # type: ignore[attr-defined]


def test_readme_opens_with_the_two_commands_ci_runs() -> None:
    text = README.read_text()
    commands = re.findall(r"```bash\n(.*?)```", text, re.S)
    assert [c.strip() for c in commands[:2]] == ["bash scripts/quickstart.sh", "bash scripts/test.sh"]
    ci = (README.parent / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in ci


def test_every_picture_the_readme_shows_is_in_the_repository() -> None:
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README.read_text())
    assert pictures, "the README shows the JupyterLab extension with screenshots"
    assert [p for p in pictures if not (README.parent / p).is_file()] == []
