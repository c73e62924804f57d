"""A tracked cell behaves exactly like the untracked cell — shown on whole notebooks of realistic code.

Every notebook of :mod:`tests.e2e.notebooks` is executed three times, each in a fresh kernel started the
way JupyterLab starts one (:mod:`tests.e2e.kernel`), with ``allow_errors`` and its own store:

* *untracked* — as written (``NBTRACK_STORE`` points to a file that must never be created);
* *tracked* — ``%load_ext nbtrack`` first and ``%%track`` on every code cell (see ``NotebookSpec``);
* *unwritable* — the tracked notebook again, with ``NBTRACK_STORE`` under a path that is a regular file.

The tests then compare the tracked run with the untracked one, cell by cell and output by output, once
nbtrack's own displays are set aside: the summary lines (metadata ``{"nbtrack": {"summary": true}}``)
and the live chart of a cell that logs curves for over a second (``{"nbtrack": {"chart": true}}``). Only what
legitimately varies between two runs is normalised: ``%time`` figures, memory addresses, widget model
ids, the kernel's temporary cell-file names, the notebook's folder, PNG bytes (the image size is
compared). Tracebacks are compared frame by frame: same cells and files, same functions, same code line,
and a line number that names that code line in the cell *as the user sees it* (a tracked cell's
``%%track`` line counts: it is commented out, not removed).
"""

from __future__ import annotations

import base64
import pprint
import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from nbformat import NotebookNode

import nbtrack
from nbtrack.query.records import RunRecord
from nbtrack.testing import isolated_session
from tests.e2e.kernel import Executed, Job, execute_all
from tests.e2e.notebooks import FIRST_CELL, NESTABLE, NotebookSpec, all_notebooks

SPECS = {spec.name: spec for spec in all_notebooks()}
WARNING_PREFIX = "nbtrack: "
WARNING_LINE = re.compile(r"^nbtrack: [^\n]*(?:\n|$)", re.MULTILINE)

ANSI = re.compile(r"\x1b\[[0-9;]*m")
ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")
TIMINGS = re.compile(r"^(CPU times|Wall time):.*$", re.MULTILINE)
KERNEL_CELL_FILE = re.compile(r"\S*ipykernel_\d+[/\\]\d+\.py:\d+")  # "<file>:<line>: UserWarning: ..."
SYNTAX_LOCATION = re.compile(r"\(\d+\.py, line \d+\)")  # SyntaxError's evalue names the cell file
FRAME = re.compile(
    r"^\s*(?:Cell In\[(?P<count>\d+)\], line (?P<cell_line>\d+)|File (?P<file>\S.*?):(?P<line>\d+))"
    r"(?:,? in (?P<function>[\w.<>]+))?"
)
ARROW = re.compile(r"^\s*-+> ?\s*\d+ ?(?P<code>.*)$")
CONTEXT_LINE = re.compile(r"^\s*\d+ ")
CHAIN = re.compile(r"^(The above exception|During handling of the above exception)")
EXCEPTION_LINE = re.compile(r"^(?P<ename>[A-Za-z_][\w.]*): (?P<evalue>.*)$")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: ``%%track`` inside the cell text that ``%%time``'s frame shows: the cells differ by that line only
TRACK_IN_MAGIC_CALL = re.compile(r"%%track[^\\']*\\n")


# -- executing the notebooks (once per module) ------------------------------------------------------
@dataclass
class Trial:
    """One notebook run untracked, tracked, and tracked with an unwritable store."""

    spec: NotebookSpec
    untracked: Side
    tracked: Side
    unwritable: Side
    tracked_store: Path
    untracked_store: Path


@pytest.fixture(scope="module")
def trials(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Trial]:
    root = tmp_path_factory.mktemp("transparency")
    blocker = root / "a-regular-file"
    blocker.write_text("the store's folder should be here\n")
    jobs: list[Job] = []
    for spec in SPECS.values():
        home = root / spec.name
        notebook = f"{spec.name}.ipynb"
        jobs += [
            Job(spec.untracked(), home / "untracked" / notebook, {"NBTRACK_STORE": str(home / "never.db")}),
            Job(spec.tracked(), home / "tracked" / notebook, {"NBTRACK_STORE": str(home / "runs.db")}),
            Job(spec.tracked(), home / "unwritable" / notebook, {"NBTRACK_STORE": str(blocker / "x.db")}),
        ]
    executed = execute_all(jobs, at_once=3)
    found = {}
    for k, spec in enumerate(SPECS.values()):
        untracked, tracked, unwritable = (Side(e) for e in executed[3 * k : 3 * k + 3])
        home = root / spec.name
        found[spec.name] = Trial(spec, untracked, tracked, unwritable, home / "runs.db", home / "never.db")
    return found


class Side:
    """One executed notebook, with what it takes to normalise its outputs."""

    def __init__(self, executed: Executed) -> None:
        self.notebook: NotebookNode = executed.notebook
        self.path: Path = executed.path.resolve()
        self.folder = str(self.path.parent)
        self.cells = {cell.id: cell for cell in self.notebook.cells}
        self.by_count = {
            cell.execution_count: cell.source
            for cell in self.notebook.cells
            if cell.cell_type == "code" and cell.execution_count is not None
        }

    def cell(self, cell_id: str) -> NotebookNode:
        return self.cells[cell_id]

    # -- normalisation -------------------------------------------------------------------------
    def text(self, text: str) -> str:
        text = text.replace(self.folder, "<folder>")
        text = TIMINGS.sub(r"\1: <time>", text)
        text = KERNEL_CELL_FILE.sub("<cell file>:<line>", text)
        return ADDRESS.sub("0x<address>", text)

    def outputs(self, outputs: list[Any]) -> list[tuple[Any, ...]]:
        """The outputs as comparable tuples: summaries set aside, adjacent stream chunks merged."""
        kept = (o for o in outputs if not is_summary(o) and not is_chart(o))
        return [self.output(output) for output in merge_streams(kept)]

    def output(self, output: dict[str, Any]) -> tuple[Any, ...]:
        kind = output["output_type"]
        if kind == "stream":
            return (kind, output["name"], self.text(output["text"]))
        if kind == "error":
            evalue = SYNTAX_LOCATION.sub("(<cell file>, line <n>)", self.text(output["evalue"]))
            return (kind, output["ename"], evalue, self.frames(output["traceback"]))
        data = {mime: self.data(mime, value) for mime, value in output.get("data", {}).items()}
        metadata = output.get("metadata", {})
        if kind == "execute_result":
            return (kind, output.get("execution_count"), data, metadata)
        return (kind, data, metadata)

    def data(self, mime: str, value: Any) -> Any:
        if mime == "image/png":
            raw = base64.b64decode(value)
            width, height = struct.unpack(">II", raw[16:24])
            return f"PNG {width}x{height}"
        if mime == WIDGET_VIEW:
            return {**value, "model_id": "<model id>"}
        return self.text(value) if isinstance(value, str) else value

    def frames(self, traceback: list[str]) -> list[tuple[Any, ...]]:
        """The traceback as frames ``(where, function, code, line)`` plus chain and exception lines."""
        found: list[tuple[Any, ...]] = []
        frame: dict[str, Any] | None = None

        def close() -> None:
            if frame is not None:
                found.append(self.frame(frame))

        for line in ANSI.sub("", "\n".join(traceback)).replace(self.folder, "<folder>").splitlines():
            header = FRAME.match(line)
            if header:
                close()
                frame = {**header.groupdict(), "code": None}
            elif CHAIN.match(line) or EXCEPTION_LINE.match(line):
                close()
                frame = None
                found.append(("text", self.text(line.strip())))
            elif frame is not None and frame["code"] is None and line.strip():
                arrow = ARROW.match(line)
                if arrow:
                    frame["code"] = arrow["code"].strip()
                elif not CONTEXT_LINE.match(line) and line.strip() != "^":
                    frame["code"] = line.strip()  # a SyntaxError shows the line without an arrow
        close()
        return found

    def frame(self, frame: dict[str, Any]) -> tuple[Any, ...]:
        code = frame["code"]
        if code is not None and "run_cell_magic(" in code:
            code = TRACK_IN_MAGIC_CALL.sub("", code)
        if frame["count"] is None:
            return (frame["file"], frame["function"], code, int(frame["line"]))
        count, line = int(frame["count"]), int(frame["cell_line"])
        lines = self.by_count.get(count, "").splitlines()
        shown = 0 < line <= len(lines) and code is not None and lines[line - 1].strip() == code
        return (f"Cell In[{count}]", frame["function"], code, "its line" if shown else f"line {line}")


def merge_streams(outputs: Iterable[Any]) -> list[dict[str, Any]]:
    """Outputs with adjacent chunks of the same stream joined (chunking depends on flush timing)."""
    merged: list[dict[str, Any]] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output["output_type"] == "stream"
            and previous is not None
            and previous["output_type"] == "stream"
            and previous["name"] == output["name"]
        ):
            previous["text"] += output["text"]
        else:
            merged.append(dict(output))
    return merged


def is_summary(output: NotebookNode | dict[str, Any]) -> bool:
    """True for the summary line nbtrack displays below a tracked cell."""
    if output.get("output_type") != "display_data":
        return False
    return bool((output.get("metadata") or {}).get("nbtrack", {}).get("summary"))


def is_chart(output: NotebookNode | dict[str, Any]) -> bool:
    """True for the live chart nbtrack draws in a tracked cell that logs curves for a while."""
    if output.get("output_type") != "display_data":
        return False
    return bool((output.get("metadata") or {}).get("nbtrack", {}).get("chart"))


def summaries(cell: NotebookNode) -> list[NotebookNode]:
    return [output for output in cell.get("outputs", []) if is_summary(output)]


def code_cells(trial: Trial) -> Iterator[tuple[str, NotebookNode, NotebookNode]]:
    """``(cell id, untracked cell, tracked cell)`` for every code cell, the first one included."""
    for cell in trial.untracked.notebook.cells:
        if cell.cell_type == "code":
            yield cell.id, cell, trial.tracked.cell(cell.id)


def difference(cell_id: str, source: str, untracked: Any, tracked: Any, label: str = "tracked") -> str:
    return (
        f"--- cell {cell_id}:\n{source}\n--- untracked:\n{pprint.pformat(untracked, width=110)}\n"
        f"--- {label}:\n{pprint.pformat(tracked, width=110)}"
    )


def stored_runs(store: Path) -> list[RunRecord]:
    with isolated_session(store):
        return [nbtrack.get_run(int(seq)) for seq in nbtrack.runs()["seq"]]


PARSE_WARNING = "this cell does not parse, so no params or metrics were captured from it"


def raised(cell: NotebookNode, ename: str) -> bool:
    return any(o.output_type == "error" and o.ename == ename for o in cell.get("outputs", []))


def cell_raised(cell: NotebookNode) -> bool:
    return any(output.output_type == "error" for output in cell.get("outputs", []))


def frames_of(side: Side, cell_id: str) -> list[tuple[Any, ...]]:
    errors = [o for o in side.cell(cell_id).outputs if o.output_type == "error"]
    assert len(errors) == 1, f"{cell_id}: expected one error output, got {len(errors)}"
    return side.frames(errors[0].traceback)


# -- the promise, notebook by notebook --------------------------------------------------------------
@pytest.mark.parametrize("name", SPECS)
def test_tracked_notebook_shows_exactly_what_the_untracked_notebook_shows(
    trials: dict[str, Trial], name: str
) -> None:
    trial = trials[name]
    differences = []
    for cell_id, untracked, tracked in code_cells(trial):
        want = (untracked.execution_count, trial.untracked.outputs(untracked.outputs))
        outputs = tracked.outputs
        if raised(untracked, "SyntaxError"):
            # the one difference the magic's spec asks for: a warning that nothing was captured
            outputs, warnings, _ = split_warnings(outputs)
            assert warnings == [PARSE_WARNING], f"{cell_id}: {warnings}"
        got = (tracked.execution_count, trial.tracked.outputs(outputs))
        if want != got:
            differences.append(difference(cell_id, tracked.source, want, got))
    assert not differences, f"{len(differences)} cell(s) differ:\n\n" + "\n\n".join(differences)


@pytest.mark.parametrize("name", SPECS)
def test_each_tracked_cell_execution_is_one_run_with_an_honest_status(
    trials: dict[str, Trial], name: str
) -> None:
    trial = trials[name]
    spec = trial.spec
    runs = stored_runs(trial.tracked_store)
    runs_of: dict[str | None, list[RunRecord]] = {}
    for run in runs:
        runs_of.setdefault(run.info.cell_id, []).append(run)
    problems = []
    for cell in spec.tracked_cells():
        cell_id = spec.cell_id(cell.name)
        untracked, tracked = trial.untracked.cell(cell_id), trial.tracked.cell(cell_id)
        expected = "FAILED" if cell_raised(untracked) else "FINISHED"
        found = runs_of.pop(cell_id, [])
        if len(found) != 1:
            problems.append(f"{cell_id}: {len(found)} runs, expected 1 ({expected})")
            continue
        info = found[0].info
        got = (info.status.value, info.execution_count, info.notebook, info.experiment)
        want = (expected, tracked.execution_count, str(trial.tracked.path), spec.name)
        if got != want:
            problems.append(f"{cell_id}: (status, execution count, notebook, experiment) {got} != {want}")
    problems += [f"a run for a cell that is not tracked: {cell_id} {rs}" for cell_id, rs in runs_of.items()]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", SPECS)
def test_summary_line_shows_once_below_each_tracked_cell_unless_quiet(
    trials: dict[str, Trial], name: str
) -> None:
    trial = trials[name]
    spec = trial.spec
    problems = []
    for cell in spec.tracked_cells():
        cell_id = spec.cell_id(cell.name)
        outputs = trial.tracked.cell(cell_id).outputs
        # also under %%capture: the summary is shown once the capture has ended, outside it; but not
        # after a final clear_output(wait=True), where it would be the output that wipes the cell
        source = trial.tracked.cell(cell_id).source.rstrip()
        expected = 0 if "-q" in spec.flags.split() or source.endswith("clear_output(wait=True)") else 1
        shown = summaries(trial.tracked.cell(cell_id))
        if len(shown) != expected:
            problems.append(f"{cell_id}: {len(shown)} summary lines, expected {expected}")
        nested = spec.nesting == "inner" and cell.source.split()[0] in NESTABLE
        if shown and not nested and not is_summary(outputs[-1]):
            problems.append(f"{cell_id}: the summary line is not the cell's last output")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", SPECS)
def test_unwritable_store_costs_each_tracked_cell_one_warning_line_and_nothing_else(
    trials: dict[str, Trial], name: str
) -> None:
    trial = trials[name]
    spec = trial.spec
    tracked_ids = {spec.cell_id(cell.name) for cell in spec.tracked_cells()}
    problems = []
    for cell_id, untracked, _ in code_cells(trial):
        cell = trial.unwritable.cell(cell_id)
        outputs, warnings, glued = split_warnings(cell.outputs)
        if cell_id == spec.cell_id(FIRST_CELL):
            expected = {0, 1}  # the store is opened in the background: its failure may show here
        elif cell_id in tracked_ids and "clear_output(" in cell.source:
            expected = {0, 1}  # printed before the cell's code runs, the warning is the user's to clear
        elif cell_id in tracked_ids:
            expected = {1}  # under %%capture too: the run starts (and fails) before the capture does
        else:
            expected = {0}
        if len(warnings) not in expected or glued:
            shown = pprint.pformat(warnings, width=110)
            problems.append(f"{cell_id}: {len(warnings)} warnings, expected {sorted(expected)}: {shown}")
            if glued:
                problems.append(f"{cell_id}: a warning does not start its own line: {glued!r}")
        want = (untracked.execution_count, trial.untracked.outputs(untracked.outputs))
        got = (cell.execution_count, trial.unwritable.outputs(outputs))
        if want != got:
            problems.append(difference(cell_id, cell.source, want, got, "unwritable store, warnings removed"))
    assert not problems, "\n".join(problems)


def split_warnings(outputs: list[NotebookNode]) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """(outputs without nbtrack's warning lines, the warnings, stderr texts where a warning shares a line)."""
    kept: list[dict[str, Any]] = []
    warnings: list[str] = []
    glued: list[str] = []
    for output in merge_streams(outputs):
        text = output.get("text", "")
        if output["output_type"] != "stream" or output["name"] != "stderr" or WARNING_PREFIX not in text:
            kept.append(output)
            continue
        warnings += [part.partition("\n")[0] for part in text.split(WARNING_PREFIX)[1:]]
        if text.count(WARNING_PREFIX) != len(WARNING_LINE.findall(text)):
            glued.append(text)
        rest = WARNING_LINE.sub("", text)
        if rest:
            kept.append({**output, "text": rest})
    return kept, warnings, glued


def test_untracked_runs_never_create_a_store_and_loading_the_extension_shows_nothing(
    trials: dict[str, Trial],
) -> None:
    for trial in trials.values():
        assert not trial.untracked_store.exists()
        first = trial.spec.cell_id(FIRST_CELL)
        assert trial.untracked.cell(first).outputs == []
        assert trial.tracked.cell(first).outputs == []


# -- what the notebooks show, one behaviour at a time ------------------------------------------------
def test_traceback_line_numbers_are_those_of_the_tracked_cell_as_shown(trials: dict[str, Trial]) -> None:
    """``%%track`` is commented out, not removed: line numbers count it, as the user's editor does."""
    trial = trials["training_loop"]
    untracked = frames_of(trial.untracked, "training_loop-wrong_features")
    tracked = frames_of(trial.tracked, "training_loop-wrong_features")
    assert tracked == untracked
    assert [f[:3] for f in tracked if f[0].startswith("Cell")] == [
        ("Cell In[13]", None, "model.predict_proba(subset)"),
        (
            "Cell In[5]",
            "LogisticRegression.predict_proba",
            'raise ValueError(f"expected {self.w.shape[0]} features, got {X.shape[1]}")',
        ),
    ]
    raw = ANSI.sub("", "\n".join(trial.tracked.cell("training_loop-wrong_features").outputs[0].traceback))
    assert "Cell In[13], line 3" in raw  # untracked: line 2 — the %%track line is line 1
    assert "Cell In[5], line 28, in LogisticRegression.predict_proba" in raw  # untracked: line 27


def test_curves_logged_inside_time_then_track_are_stored_with_every_point(trials: dict[str, Trial]) -> None:
    trial = trials["training_loop"]
    (train,) = [r for r in stored_runs(trial.tracked_store) if r.info.cell_id == "training_loop-train"]
    assert len(train.history("loss")) == 40
    assert len(train.history("val_loss")) == 40
    assert train.params["lr"] == 0.5


def test_clear_output_wait_at_the_end_of_a_tracked_cell_keeps_the_cell_output(
    trials: dict[str, Trial],
) -> None:
    """``clear_output(wait=True)`` clears on the *next* output: the summary line must not be that output."""
    trial = trials["display_gallery"]
    cell_id = "display_gallery-last_status_stays"
    untracked = trial.untracked.outputs(trial.untracked.cell(cell_id).outputs)
    assert untracked == [("stream", "stdout", "[3/3] processed gamma.csv\n")]
    assert trial.tracked.outputs(trial.tracked.cell(cell_id).outputs) == untracked


def test_outputs_captured_by_capture_then_track_are_those_of_the_untracked_cell(
    trials: dict[str, Trial],
) -> None:
    """``%%capture log`` + ``%%track``: ``log.outputs`` must not gain nbtrack's summary line."""
    trial = trials["training_loop"]
    cell_id = "training_loop-sweep_results"  # shows sweep_log.outputs[-1], the captured results table
    untracked = trial.untracked.outputs(trial.untracked.cell(cell_id).outputs)
    assert untracked[-1][0] == "execute_result"
    assert "text/html" in untracked[-1][2]  # the DataFrame displayed inside %%capture
    assert trial.tracked.outputs(trial.tracked.cell(cell_id).outputs) == untracked


def test_exception_under_time_then_track_shows_the_frames_of_the_untracked_cell(
    trials: dict[str, Trial],
) -> None:
    """No frame of nbtrack's own code, and no frame naming a cell that has not run yet."""
    trial = trials["display_gallery"]
    cell_id = "display_gallery-parse_settings"
    count = trial.tracked.cell(cell_id).execution_count
    frames = frames_of(trial.tracked, cell_id)
    ours = [f for f in frames if f[0] != "text" and "nbtrack" in str(f[0])]
    assert ours == []
    later = [f for f in frames if f[0].startswith("Cell In[") and int(f[0][8:-1]) > count]
    assert later == [], f"cell {count} shows frames of later cells"


def test_exception_in_track_then_capture_cell_records_a_failed_run(trials: dict[str, Trial]) -> None:
    """``%%track`` above ``%%capture``: the cell shows a traceback, so its run must not say FINISHED."""
    trial = trials["sales_report"]
    assert cell_raised(trial.tracked.cell("sales_report-export"))
    (export,) = [r for r in stored_runs(trial.tracked_store) if r.info.cell_id == "sales_report-export"]
    assert export.info.status.value == "FAILED"


def test_syntax_error_in_a_tracked_cell_shows_the_syntax_error_one_warning_and_records_a_failed_run(
    trials: dict[str, Trial],
) -> None:
    trial = trials["sales_report"]
    cell_id = "sales_report-typo"
    tracked = trial.tracked.cell(cell_id)
    assert [o.output_type for o in tracked.outputs] == ["stream", "error"]
    assert tracked.outputs[0].name == "stderr"
    assert tracked.outputs[0].text == f"nbtrack: {PARSE_WARNING}\n"
    assert tracked.outputs[1].ename == "SyntaxError"
    found = [r for r in stored_runs(trial.tracked_store) if r.info.cell_id == cell_id]
    assert [r.info.status.value for r in found] == ["FAILED"]
