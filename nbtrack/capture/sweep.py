"""``%%track --sweep lr=1e-3,1e-2 --sweep epochs=3,5``: the cell once per combination of values.

Each combination runs the cell with its literal assignments rewritten (nothing else in the code
changes) as its own run, tagged with a shared ``sweep`` id. A failing combination is recorded as
FAILED and the sweep goes on; Ctrl-C records the current one as INTERRUPTED and stops. A sweep over
a name the cell does not assign a literal to is a usage error before anything runs. The result is a
table of the runs.
"""

from __future__ import annotations

import itertools
import secrets
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from nbtrack.capture.cellcode import SweepError, analyse, parse_sweep, rewrite_literals
from nbtrack.capture.guard import warn
from nbtrack.capture.request import TrackRequest

if TYPE_CHECKING:
    from nbtrack.capture.controller import Controller

MAX_COMBINATIONS = 1000


def plan(request: TrackRequest, code: str) -> list[dict[str, Any]]:
    """Every combination of swept values, checked against the cell (UsageError if impossible)."""
    specs = []
    for spec in request.sweeps:
        try:
            specs.append(parse_sweep(spec))
        except SweepError as exc:
            raise UsageError(f"%%track --sweep: {exc}") from None
    names = [name for name, _ in specs]
    if len(set(names)) != len(names):
        raise UsageError(f"%%track --sweep: a name is swept twice: {', '.join(names)}")
    try:
        sites = analyse(code).literal_sites
    except SyntaxError as exc:
        raise UsageError(f"%%track --sweep: the cell does not parse: {exc}") from None
    missing = [n for n in names if not sites.get(n)]
    if missing:
        sweepable = ", ".join(sorted(sites)) or "none"
        raise UsageError(
            f"%%track --sweep: the cell assigns no literal to {', '.join(missing)} "
            f"(names that can be swept: {sweepable})"
        )
    combos = [dict(zip(names, values, strict=True)) for values in itertools.product(*(v for _, v in specs))]
    if len(combos) > MAX_COMBINATIONS:
        raise UsageError(f"%%track --sweep: {len(combos)} combinations; at most {MAX_COMBINATIONS}")
    return combos


def run_sweep(controller: Controller, request: TrackRequest, cell: str) -> Any:
    """Run every combination as its own tracked run; return a table of the runs."""
    from nbtrack.capture.cellrun import Outcome
    from nbtrack.capture.magics import run_body

    shell = controller.shell
    code = shell.transform_cell(cell)
    combos = plan(request, code)
    sweep_id = secrets.token_hex(4)
    rows = []
    for values in combos:
        try:
            body = rewrite_literals(code, values)
        except SweepError as exc:  # checked by plan(); kept for values repr cannot express
            raise UsageError(f"%%track --sweep: {exc}") from None
        cell_run = controller.start(request, body, extra_tags={"sweep": sweep_id})
        outcome = Outcome()
        try:
            outcome.value, outcome.has_value = run_body(shell, body, cell_run)
        except KeyboardInterrupt as exc:
            outcome.error = exc
            if cell_run is not None:
                controller.finish(cell_run, outcome)
            raise
        except Exception as exc:  # noqa: BLE001 - the user's error: recorded, and the sweep goes on
            outcome.error = exc
        if cell_run is not None:
            controller.finish(cell_run, outcome)
        rows.append(_row(values, cell_run, outcome))
    failed = sum(1 for r in rows if r["status"] == "FAILED")
    if failed:
        warn(f"sweep {sweep_id}: {failed} of {len(rows)} combinations failed (see %track show N)")
    return _table(rows)


def _row(values: dict[str, Any], cell_run: Any, outcome: Any) -> dict[str, Any]:
    run = cell_run.run if cell_run is not None else None
    row: dict[str, Any] = {"run": run.seq if run is not None else None}
    row.update(values)
    row["status"] = (
        run.status.value if run is not None else ("FAILED" if outcome.error is not None else "FINISHED")
    )
    if cell_run is not None and cell_run.metric is not None:
        row[cell_run.metric[0]] = cell_run.metric[1]
    if outcome.error is not None:
        row["error"] = f"{type(outcome.error).__name__}: {outcome.error}"
    return row


def _table(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows)
