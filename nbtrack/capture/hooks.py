"""How a ``%%track`` cell runs *as a normal cell*: one input transformer plus IPython events.

IPython transforms a cell before it runs it (and before ``pre_run_cell``). When a top-level cell
starts with a valid ``%%track`` line, the transformer turns that line into a comment (line numbers in
tracebacks stay those the user sees) and remembers the cell; ``pre_run_cell`` then starts its run, and
IPython runs the body exactly as it runs any cell — same display of the last expression, same
tracebacks, same history. ``post_run_cell`` ends the run from IPython's own execution result.

Cells that reach ``%%track`` any other way — nested under ``%%time`` or ``%%capture``, with a usage
error, or with ``--sweep`` — are left alone here and go through the registered cell magic
(:mod:`nbtrack.capture.magics`). Transforms requested *while* a cell executes are such nested ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import parse_argstring

from nbtrack.capture.request import TrackRequest, first_line_magic, request_from_args

if TYPE_CHECKING:
    from nbtrack.capture.cellrun import CellRun
    from nbtrack.capture.controller import Controller

_EVENTS = ("pre_execute", "post_execute", "pre_run_cell", "post_run_cell")


@dataclass
class _Pending:
    raw_cell: str
    request: TrackRequest
    body: str


@dataclass
class CellHooks:
    """The transformer and the execute/run-cell callbacks of one shell."""

    controller: Controller
    _executing: int = 0
    _pending: _Pending | None = None
    _stack: list[CellRun | None] = field(default_factory=list)

    def install(self, shell: Any) -> None:
        """Register the callbacks and the transformer."""
        for event in _EVENTS:
            shell.events.register(event, getattr(self, event))
        shell.input_transformers_cleanup.insert(0, self.transform)

    def uninstall(self, shell: Any) -> None:
        """Remove everything :meth:`install` registered."""
        for event in _EVENTS:
            callback = getattr(self, event)
            if callback in shell.events.callbacks.get(event, []):
                shell.events.unregister(event, callback)
        while self.transform in shell.input_transformers_cleanup:
            shell.input_transformers_cleanup.remove(self.transform)

    # -- transformer -----------------------------------------------------------------------
    def transform(self, lines: list[str]) -> list[str]:
        """Comment out the ``%%track`` line of a top-level cell (and remember that cell)."""
        if self._executing or not lines:
            return lines
        raw = "".join(lines)
        found = first_line_magic(raw)
        if found is None:
            return lines
        request = _parse(found[0])
        if request is None or request.sweeps:
            return lines  # the cell magic reports the usage error / runs the sweep
        self._pending = _Pending(raw, request, found[1])
        out = list(lines)
        for i, line in enumerate(out):
            if line.strip():
                following = next((rest for rest in out[i + 1 :] if rest.strip()), "")
                if following.lstrip().startswith("%%"):
                    del out[i]  # another cell magic must stay on the first line
                else:
                    out[i] = "# " + line
                break
        return out

    # -- events ----------------------------------------------------------------------------
    def pre_execute(self) -> None:
        """A cell (or a silent execution) starts: transforms from now on are nested ones."""
        self._executing += 1

    def post_execute(self) -> None:
        """The execution that :meth:`pre_execute` saw has ended."""
        self._executing = max(0, self._executing - 1)

    def pre_run_cell(self, info: Any) -> None:
        """Before a cell: if the transformer took it as a %%track cell, start its run."""
        pending, self._pending = self._pending, None
        raw = getattr(info, "raw_cell", None) or ""
        cell_run = None
        if pending is not None and _same_cell(pending.raw_cell, raw):
            cell_run = self.controller.start(pending.request, pending.body)
        self._stack.append(cell_run)

    def post_run_cell(self, result: Any) -> None:
        """After a cell: end the run it started, from IPython's own result."""
        cell_run = self._stack.pop() if self._stack else None
        if cell_run is None:
            return
        from nbtrack.capture.cellrun import Outcome

        error = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
        value = getattr(result, "result", None)
        self.controller.finish(cell_run, Outcome(error=error, value=value, has_value=value is not None))


def _same_cell(a: str, b: str) -> bool:
    return a.rstrip("\n") == b.rstrip("\n")


def _parse(line: str) -> TrackRequest | None:
    from nbtrack.capture.magics import TrackMagics

    try:
        return request_from_args(parse_argstring(TrackMagics.track_cell, line))
    except (UsageError, SystemExit, ValueError):
        return None
