"""Helpers shared by the command-line tests: invocation results and reading printed tables."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    """What one ``nbtrack`` invocation did."""

    code: int
    out: str
    err: str


CliRunner = Callable[..., Result]


def table_rows(out: str) -> list[list[str]]:
    """The cells of a table printed by ``nbtrack ls`` (split on runs of two or more spaces)."""
    return [re.split(r"\s{2,}", line.strip()) for line in out.splitlines() if line.strip()]


def blob_path(store_path: Path, content: bytes) -> Path:
    """Where the default artifact root (beside the store) keeps ``content``."""
    sha = hashlib.sha256(content).hexdigest()
    return store_path.parent / "artifacts" / sha[:2] / sha
