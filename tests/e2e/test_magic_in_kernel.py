"""%%track in a real kernel started the way JupyterLab starts it: what a run records about its cell."""

from __future__ import annotations

from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

import nbtrack
from nbtrack.api import Session
from nbtrack.model import Status
from tests.e2e.kernel import Job, execute


@pytest.fixture
def executed(tmp_path: Path, store_path: Path, session: Session) -> tuple[object, Path]:
    cells = [
        new_code_cell("%load_ext nbtrack\nimport nbtrack\nwidth = 32"),
        new_code_cell(
            "%%track -e kernel-test -t stage=dev\n"
            "lr = 0.05\n"
            "for i in range(20):\n"
            "    nbtrack.log(loss=1 / (i + 1))\n"
            "print('trained', lr)\n"
            "acc = 0.5 + lr * width / 100\n"
            "acc"
        ),
        new_code_cell("%%track -q\nboom = 1 / 0"),
        new_code_cell("%track"),
    ]
    nb = new_notebook(
        cells=cells,
        metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
    )
    path = tmp_path / "work" / "train model.ipynb"
    result = execute(Job(nb, path, env={"NBTRACK_STORE": str(store_path)}))
    return result.notebook, path


def test_runs_record_notebook_cell_id_execution_count_and_outputs(executed: tuple[object, Path]) -> None:
    nb, path = executed
    frame = nbtrack.runs(order_by="seq")
    assert frame["status"].tolist() == ["FINISHED", "FAILED"]
    first = nbtrack.get_run(int(frame["seq"].iloc[0]))
    cell = nb.cells[1]  # type: ignore[attr-defined]
    assert first.info.notebook == str(path.resolve())
    assert first.info.cell_id == cell.id
    assert first.info.execution_count == cell.execution_count
    assert first.experiment == "kernel-test"
    assert first.tags == {"stage": "dev"}
    assert first.params == {"lr": 0.05, "width": 32}
    assert first.metrics["acc"] == pytest.approx(0.516)
    assert len(first.history("loss")) == 20
    assert first.artifact_bytes("stdout.txt") == b"trained 0.05\n"
    assert first.info.context["python"]
    assert first.info.context.get("kernel_id") is None or isinstance(first.info.context["kernel_id"], str)
    failed = nbtrack.get_run(int(frame["seq"].iloc[1]))
    assert failed.status is Status.FAILED
    assert failed.experiment == "train model"  # the notebook's name by default


def test_cell_outputs_are_those_of_the_cell_plus_one_summary_line(executed: tuple[object, Path]) -> None:
    nb, _ = executed
    outputs = nb.cells[1].outputs  # type: ignore[attr-defined]
    kinds = [o.output_type for o in outputs]
    assert kinds == ["stream", "execute_result", "display_data"]
    assert outputs[0].text == "trained 0.05\n"
    assert outputs[1].data["text/plain"] == "0.516"
    summary = outputs[2]
    assert summary.metadata["nbtrack"]["summary"] is True
    assert "run #1" in summary.data["text/plain"] and "acc" in summary.data["text/plain"]
    assert "<div" in summary.data["text/html"]
    errors = nb.cells[2].outputs  # type: ignore[attr-defined]
    assert [o.output_type for o in errors] == ["error"]  # -q: no summary line
    assert errors[0].ename == "ZeroDivisionError"
    table = nb.cells[3].outputs  # type: ignore[attr-defined]
    assert table[0].output_type == "execute_result" and "text/html" in table[0].data


def test_summary_lines_in_a_kernel_compare_each_run_with_the_earlier_ones(
    tmp_path: Path, store_path: Path, session: Session
) -> None:
    # %%track runs are created by the writer thread; the summary still sees every earlier run.
    cells = [
        new_code_cell("%load_ext nbtrack"),
        *[new_code_cell(f"%%track\nacc = float({value})") for value in (0.5, 0.7, 0.6)],
    ]
    nb = new_notebook(
        cells=cells,
        metadata={"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}},
    )
    result = execute(Job(nb, tmp_path / "compare.ipynb", env={"NBTRACK_STORE": str(store_path)}))
    lines = [
        next(o for o in cell.outputs if o.output_type == "display_data").data["text/plain"]
        for cell in result.notebook.cells[1:4]
    ]
    assert lines[0].startswith("run #1 · → acc 0.5 · ")  # nothing earlier to compare with
    assert "→ acc 0.7 (best so far) · " in lines[1]  # "vs #N" compares runs of the same cell
    assert "→ acc 0.6 · " in lines[2]
