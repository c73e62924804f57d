"""The ``%%track`` cell magic — thin: parse, then delegate.

Most ``%%track`` cells never reach :meth:`TrackMagics.track`: the hooks
(:mod:`nbtrack.capture.hooks`) run them as normal cells. The cell magic handles what the hooks leave
to it: a usage error (reported before the body runs), ``%%track`` nested under another cell magic such
as ``%%time``, and sweeps. It then runs the body the way ``%%time`` does and returns the value of a
final expression, so the outer magic displays it.
"""

from __future__ import annotations

import ast
import sys
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from nbtrack.capture.request import TrackRequest, request_from_args

if TYPE_CHECKING:
    from nbtrack.capture.controller import Controller


@magics_class
class TrackMagics(Magics):
    """``%%track``: a run per cell execution (``%track``, the line magic, lives in nbtrack.cli.magic)."""

    def __init__(self, shell: Any, controller: Controller) -> None:
        super().__init__(shell)
        self.controller = controller

    @magic_arguments()
    @argument("name", nargs="*", help="a name for the run (optional)")
    @argument("-e", "--experiment", help="experiment of the run (default: the notebook's name)")
    @argument("-t", "--tag", action="append", metavar="KEY=VALUE", help="a tag (repeatable)")
    @argument("-p", "--params", action="append", metavar="A,B", help="also record these variables as params")
    @argument("--no-outputs", action="store_true", help="do not store the cell's outputs")
    @argument("-q", "--quiet", action="store_true", help="no summary line below the cell")
    @argument(
        "--sweep",
        action="append",
        metavar="NAME=V1,V2",
        help="run the cell once per value (repeatable: every combination)",
    )
    @cell_magic("track")  # type: ignore[arg-type]  # IPython's decorator types are too narrow
    def track(self, line: str, cell: str) -> Any:
        """Track this cell's execution as a run: its params, results, outputs, code and context.

        Params are the cell's literal assignments (``lr = 1e-3``) and the plain values it reads from
        earlier cells; metrics are the numbers it leaves in variables or shows as its last expression;
        ``nbtrack.log(...)`` inside the cell logs curves into the run.
        """
        __tracebackhide__ = True  # IPython leaves nbtrack's frames out of the user's traceback
        request = parse_track_line(line)
        if request.sweeps:
            from nbtrack.capture.sweep import run_sweep

            return run_sweep(self.controller, request, cell)
        return self.controller_run(request, cell)

    def controller_run(self, request: Any, cell: str) -> Any:
        """Run ``cell`` tracked, like %%time runs its body; exceptions propagate unchanged."""
        __tracebackhide__ = True  # IPython leaves nbtrack's frames out of the user's traceback
        from nbtrack.capture.cellrun import Outcome

        cell_run = self.controller.start(request, cell)
        outcome = Outcome()
        try:
            outcome.value, outcome.has_value = run_body(self.shell, cell, cell_run)
        finally:
            # The user's exception, if any, keeps propagating unchanged after this block.
            outcome.error = sys.exc_info()[1]
            if cell_run is not None:
                self.controller.finish(cell_run, outcome)
        return outcome.value if outcome.has_value else None


# magic_arguments names the usage after the method, with one "%"; this is a cell magic
TrackMagics.track.parser.prog = "%%track"
TrackMagics.track.__doc__ = (TrackMagics.track.__doc__ or "").replace("%track ", "%%track ", 1)


def run_body(shell: Any, cell: str, cell_run: Any = None) -> tuple[Any, bool]:
    """Execute a cell body in the user's namespace as %%time does; return (last value, has value).

    ``cell_run`` (the body's CellRun, if tracked) lends its transformed code and analysis, so the
    body is neither transformed nor analysed twice.
    """
    __tracebackhide__ = True  # IPython leaves nbtrack's frames out of the user's traceback
    from nbtrack.capture.cellcode import analyse
    from nbtrack.capture.context import execution_count

    known = cell_run is not None and cell_run.code is not None
    code = cell_run.code if known else shell.transform_cell(cell)
    tree = shell.compile.ast_parse(code)
    tree = shell.transform_ast(tree)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        analysis = cell_run.analysis if known else None
        try:
            hidden = (analysis or analyse(code)).last_expr_ends_with_semicolon
        except SyntaxError:
            hidden = False
        if not hidden:
            last = tree.body.pop()
    filename = shell.compile.cache(code, execution_count(shell) or 0)
    if tree.body:
        shell.ex(shell.compile(tree, filename, "exec"))
    if last is None:
        return None, False
    expression = ast.Expression(last.value)
    ast.fix_missing_locations(expression)
    return shell.ev(shell.compile(expression, filename, "eval")), True


def parse_track_line(line: str) -> TrackRequest:
    """The ``%%track`` line's options, quotes removed as a shell would (``-e "my exp"`` is ``my exp``).

    IPython's ``parse_argstring`` keeps the quotes in the values, so the line is split with shlex here.
    """
    import shlex

    from IPython.core.error import UsageError

    try:
        argv = shlex.split(line)
    except ValueError as exc:  # an unclosed quote
        raise UsageError(f"%%track: {exc}") from None
    return request_from_args(TrackMagics.track.parser.parse_args(argv))
