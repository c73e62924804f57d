"""How a ``%%track`` cell runs *as a normal cell*: one input transformer plus IPython events.

IPython transforms a cell before it runs it (and before ``pre_run_cell``). When a top-level cell has a
valid ``%%track`` line among its leading cell-magic lines (``%%track`` first, or after ``%%time`` /
``%%capture x``), the transformer turns that line into a comment when it is the first line (so line
numbers stay those the user sees) and drops it otherwise (so ``%%time`` runs exactly the body it runs
untracked, and a following cell magic stays first), and remembers the cell; ``pre_run_cell`` then
starts its run, and IPython runs the rest exactly as it runs any cell: same display of the last
expression, same tracebacks, same history. ``post_run_cell`` ends the run from IPython's own
execution result — or, when an inner ``%%capture`` ran the body in a nested cell and showed its error
itself, from that nested cell's result.

The summary line of a run is displayed when the outermost cell ends, after any ``%%capture`` has
given the outputs back, and not at all when the cell's last act was ``clear_output(wait=True)`` (the
summary would be the "next output" that wipes the cell).

Cells reaching ``%%track`` any other way — a usage error, ``--sweep``, or a ``%%track`` cell run while
another cell executes — go through the registered cell magic (:mod:`nbtrack.capture.magics`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from nbtrack.capture.request import TrackRequest, track_line_index

if TYPE_CHECKING:
    from nbtrack.capture.cellrun import CellRun
    from nbtrack.capture.controller import Controller

_EVENTS = ("pre_execute", "post_execute", "pre_run_cell", "post_run_cell")


# Plain classes rather than dataclasses: each @dataclass costs ~0.5 ms to build (it compiles generated
# code), paid by every %load_ext nbtrack.
class _Pending:
    __slots__ = ("body", "first", "raw_cell", "request", "transformed")

    def __init__(
        self, raw_cell: str, transformed: str, request: TrackRequest, body: str, first: bool
    ) -> None:
        self.raw_cell = raw_cell
        self.transformed = transformed
        self.request = request
        self.body = body
        self.first = first  # %%track was the cell's first line: IPython's transformed cell is the body's code


class _Frame:
    """One cell being run (top-level or nested), and the tracked run it started, if any."""

    __slots__ = ("cell_run", "nested_error")

    def __init__(self, cell_run: CellRun | None) -> None:
        self.cell_run = cell_run
        self.nested_error: BaseException | None = None


class CellHooks:
    """The transformer and the execute/run-cell callbacks of one shell."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self._executing = 0
        self._pending: _Pending | None = None
        self._stack: list[_Frame] = []

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

    @property
    def depth(self) -> int:
        """How many cells are running, nested ones included."""
        return len(self._stack)

    # -- transformer -----------------------------------------------------------------------
    def transform(self, lines: list[str]) -> list[str]:
        """Take the ``%%track`` line out of a top-level cell's leading magics (and remember the cell)."""
        if self._executing or not lines:
            return lines
        found = track_line_index(lines)
        if found is None:
            return lines
        index, argline = found
        request = _parse(argline)
        if request is None or request.sweeps:
            return lines  # the cell magic reports the usage error / runs the sweep
        out = list(lines)
        first = all(not line.strip() for line in lines[:index])
        following = next((rest for rest in out[index + 1 :] if rest.strip()), "")
        if first and not following.lstrip().startswith("%%"):
            out[index] = "# " + out[index].lstrip()  # line numbers stay those the user sees
        else:
            # after %%time/%%capture the body those magics run is then exactly the untracked one;
            # before another cell magic, that magic must become the first line
            del out[index]
        body = "".join(line for i, line in enumerate(lines) if i > index)
        self._pending = _Pending("".join(lines), "".join(out), request, body, first)
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
            code = (getattr(info, "transformed_cell", None) or None) if pending.first else None
            cell_run = self.controller.start(pending.request, pending.body, code=code)
        self._stack.append(_Frame(cell_run))

    def post_run_cell(self, result: Any) -> None:
        """After a cell: end the run it started, from IPython's own result."""
        frame = self._stack.pop() if self._stack else _Frame(None)
        error = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
        if frame.cell_run is None:
            if error is not None:
                self._note_nested_error(error)
        else:
            from nbtrack.capture.cellrun import Outcome

            value = getattr(result, "result", None)
            outcome = Outcome(error=error or frame.nested_error, value=value, has_value=value is not None)
            self.controller.finish(frame.cell_run, outcome)
        if not self._stack:
            self.controller.show_summaries()

    def _note_nested_error(self, error: BaseException) -> None:
        """A nested cell (e.g. the body %%capture runs) failed: the tracked cell around it failed too."""
        for frame in reversed(self._stack):
            if frame.cell_run is not None:
                frame.nested_error = frame.nested_error or error
                return


def _same_cell(a: str, b: str) -> bool:
    return a.rstrip("\n") == b.rstrip("\n")


def _parse(line: str) -> TrackRequest | None:
    from nbtrack.capture.magics import parse_track_line

    try:
        return parse_track_line(line)
    except (UsageError, SystemExit, ValueError):
        return None
