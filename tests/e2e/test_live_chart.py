"""Live curves in a real kernel: a long %%track cell that logs gets a chart that redraws, then freezes."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import nbtrack
from nbtrack.testing import isolated_session
from tests.e2e.kernel import Job, execute

PLOTLY = "application/vnd.plotly.v1+json"
KERNELSPEC = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    tmp = tmp_path_factory.mktemp("live")
    store = tmp / "nbtrack.db"
    cells = [
        new_code_cell("%load_ext nbtrack\nimport time, nbtrack"),
        new_code_cell(
            "%%track\n"
            "lr = 0.1\n"
            "for step in range(30):\n"
            "    nbtrack.log(loss=1 / (step + 1), acc=step / 30)\n"
            "    time.sleep(0.1)\n"
            "print('done')"
        ),
        new_code_cell("%%track\nfor step in range(50):\n    nbtrack.log(loss=1 / (step + 1))"),  # quick cell
        new_code_cell("%%track -q\nfor step in range(20):\n    nbtrack.log(x=step)\n    time.sleep(0.1)"),
    ]
    nb = new_notebook(cells=cells, metadata=KERNELSPEC)
    path = tmp / "live.ipynb"
    result = execute(Job(nb, path, env={"NBTRACK_STORE": str(store)}))
    nbformat.write(result.notebook, path)
    return result.notebook, store


def _charts(cell: Any) -> list[Any]:
    return [o for o in cell.outputs if (o.get("metadata") or {}).get("nbtrack", {}).get("chart")]


def test_a_long_logging_cell_shows_a_chart_that_was_redrawn_and_ends_frozen(
    executed: tuple[Any, Path],
) -> None:
    nb, store = executed
    outputs = nb.cells[1].outputs
    charts = _charts(nb.cells[1])
    assert len(charts) == 1
    chart = charts[0]
    meta = chart.metadata["nbtrack"]
    assert meta["live"] is False  # frozen
    assert meta["frames"] >= 3  # drawn while running (about every 0.3 s for ~2 s), then once more
    figure = chart.data[PLOTLY]
    assert [t["name"] for t in figure["data"]] == ["acc", "loss"]
    assert "run #1" in figure["layout"]["title"]["text"] and "FINISHED" in figure["layout"]["title"]["text"]
    assert "<div" in chart.data["text/html"] and "loss" in chart.data["text/plain"]
    # the cell's own output and the summary line are still there, in order
    kinds = [o.output_type for o in outputs]
    assert kinds.count("stream") == 1 and outputs[-1].metadata["nbtrack"]["summary"] is True
    # every point is in the frozen chart (30 < the chart's point budget) and in the store
    loss = next(t for t in figure["data"] if t["name"] == "loss")
    assert list(_array(loss["y"])) == pytest.approx([1 / (s + 1) for s in range(30)], rel=1e-6)
    with isolated_session(store):
        assert len(nbtrack.get_run(1).history("loss")) == 30


def _array(data: Any) -> Any:
    """A Plotly array as saved: a list, or a base64 typed array ``{"dtype", "bdata"}``."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
    return np.asarray(data)


def test_quick_and_quiet_cells_show_no_chart(executed: tuple[Any, Path]) -> None:
    nb, _ = executed
    assert _charts(nb.cells[2]) == []
    assert _charts(nb.cells[3]) == []
    assert nb.cells[3].outputs == []
