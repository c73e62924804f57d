"""Realistic notebooks for the transparency tests, and their untracked and tracked versions.

Each notebook module (``training_loop``, ``sales_report``, ``display_gallery``) defines ``CELLS``, a list
of :class:`Cell` in notebook order, written the way people write notebooks — no ``%%track`` anywhere.
:class:`NotebookSpec` turns one into the two notebooks the tests execute:

* **untracked** — the cells as written, after a first cell holding only a comment. That cell is
  executed (an empty one would be skipped), so execution counts line up with the tracked version.
* **tracked** — ``%load_ext nbtrack`` first, then ``%%track`` (with the spec's flags, e.g. ``-q``) added
  to every code cell as a user would. Where a cell already starts with a cell magic, ``nesting`` says
  how: ``"inner"`` puts ``%%track`` *under* ``%%time``/``%%capture`` (the magic path) and leaves other
  cell magics alone (``%%writefile`` would write the line into the file); ``"outer"`` puts it above any
  cell magic (the hooks path).

Cell ids are fixed (``<notebook>-<cell name>``) so tests can name cells and runs can be matched to cells.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NESTABLE = ("%%time", "%%capture")
UNTRACKED_FIRST_CELL = "# this copy runs without nbtrack"
LOAD_EXTENSION = "%load_ext nbtrack"
FIRST_CELL = "first"

#: Last cell of every notebook: what the notebook left in the user's namespace, one line per name.
NAMESPACE_DIGEST = r'''
import types as _types


def _short(value):
    if isinstance(value, (int, float, str, bool, type(None))):
        return repr(value)[:60]
    if isinstance(value, (list, tuple, dict, set)):
        return f"{type(value).__name__} of {len(value)}"
    shape = getattr(value, "shape", None)
    return f"shape {tuple(shape)}" if isinstance(shape, tuple) else type(value).__name__


for _name in sorted(globals()):
    if _name.startswith("_") or _name in {"In", "Out", "get_ipython", "exit", "quit", "open"}:
        continue
    _value = globals()[_name]
    if isinstance(_value, _types.ModuleType):
        print(f"{_name}: module {_value.__name__}")
    else:
        print(f"{_name}: {type(_value).__name__} = {_short(_value)}")
'''


@dataclass(frozen=True)
class Cell:
    """One cell as written: ``name`` is unique in its notebook; ``kind`` is "code" or "markdown"."""

    name: str
    source: str
    kind: Literal["code", "markdown"] = "code"


def code(name: str, source: str) -> Cell:
    """A code cell; the source is dedented and stripped of surrounding blank lines."""
    return Cell(name, textwrap.dedent(source).strip("\n"))


def markdown(name: str, source: str) -> Cell:
    """A markdown cell."""
    return Cell(name, textwrap.dedent(source).strip("\n"), "markdown")


def namespace_digest() -> Cell:
    """The closing cell that prints the namespace (compared between the two runs like any output)."""
    return code("namespace", NAMESPACE_DIGEST)


@dataclass(frozen=True)
class NotebookSpec:
    """A realistic notebook and how its tracked version is made."""

    name: str
    cells: tuple[Cell, ...]
    flags: str = ""
    nesting: Literal["inner", "outer"] = "inner"

    @property
    def track_line(self) -> str:
        return f"%%track {self.flags}".rstrip()

    def cell_id(self, cell_name: str) -> str:
        """The nbformat id of a cell in both versions."""
        return f"{self.name}-{cell_name}"

    def tracked_source(self, cell: Cell) -> str | None:
        """The cell's source with ``%%track`` added, or None if this cell is left untracked."""
        if cell.kind != "code":
            return None
        head, _, rest = cell.source.partition("\n")
        if not head.startswith("%%") or self.nesting == "outer":
            return f"{self.track_line}\n{cell.source}"
        if head.split()[0] in NESTABLE:
            return f"{head}\n{self.track_line}\n{rest}"
        return None

    def untracked(self) -> NotebookNode:
        """The notebook as written (plus the comment-only first cell)."""
        return self._notebook(UNTRACKED_FIRST_CELL, lambda cell: cell.source)

    def tracked(self) -> NotebookNode:
        """The notebook with ``%load_ext nbtrack`` first and ``%%track`` on its code cells."""
        return self._notebook(LOAD_EXTENSION, lambda cell: self.tracked_source(cell) or cell.source)

    def tracked_cells(self) -> list[Cell]:
        """The cells that carry ``%%track`` in the tracked version."""
        return [cell for cell in self.cells if self.tracked_source(cell) is not None]

    def _notebook(self, first: str, source_of: Callable[[Cell], str]) -> NotebookNode:
        cells = [new_code_cell(first, id=self.cell_id(FIRST_CELL))]
        for cell in self.cells:
            make = new_code_cell if cell.kind == "code" else new_markdown_cell
            cells.append(make(source_of(cell), id=self.cell_id(cell.name)))
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        return nb


def all_notebooks() -> list[NotebookSpec]:
    """Every realistic notebook, with the tracking style each one is tested in."""
    from tests.e2e.notebooks import display_gallery, sales_report, training_loop

    return [
        NotebookSpec("training_loop", tuple(training_loop.CELLS), nesting="inner"),
        NotebookSpec("sales_report", tuple(sales_report.CELLS), flags="-q", nesting="outer"),
        NotebookSpec("display_gallery", tuple(display_gallery.CELLS), nesting="inner"),
    ]
