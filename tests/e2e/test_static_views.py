"""A notebook saved with its panels and viewed without a kernel (nbconvert HTML) still shows them.

JupyterLab does not save widget state by default, so a viewer without a kernel (nbconvert, GitHub)
falls back to the next mime type of each output: the static HTML every nbtrack panel carries.
"""

from __future__ import annotations

from typing import Any

import pytest
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_notebook

from tests.e2e.kernel import Job, execute

KERNELSPEC = {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    work = tmp_path_factory.mktemp("static")
    cells = [
        new_code_cell("%load_ext nbtrack\nimport time, nbtrack"),
        new_code_cell(
            f"%%track -e static --sweep lr=0.1,0.2\nlr = 0.1\nlabel = {XSS!r}\n"
            "for step in range(25):\n    nbtrack.log(loss=lr / (step + 1))\n    time.sleep(0.06)"
        ),
        new_code_cell("nbtrack.table(experiment='static')"),
        new_code_cell("nbtrack.compare([1, 2])"),
    ]
    nb = new_notebook(cells=cells, metadata=KERNELSPEC)
    env = {"NBTRACK_STORE": str(work / "nbtrack.db")}
    nb = execute(Job(nb, work / "static.ipynb", env=env, store_widget_state=False)).notebook
    body, _ = HTMLExporter().from_notebook_node(nb)
    return nb, body


def test_the_saved_table_and_comparison_carry_static_html(exported: tuple[Any, str]) -> None:
    nb, _ = exported
    table = nb.cells[2].outputs[0]
    compare = nb.cells[3].outputs[0]
    for output in (table, compare):
        assert "application/vnd.jupyter.widget-view+json" in output.data
        assert "text/html" in output.data
    assert "nbtrack-static-table" in table.data["text/html"] and "#2" in table.data["text/html"]
    assert "nbtrack-compare-static" in compare.data["text/html"]


def test_nbconvert_html_shows_the_table_the_comparison_and_the_charts(exported: tuple[Any, str]) -> None:
    nb, body = exported
    assert "nbtrack-static-table" in body and "nbtrack-compare-static" in body
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    charts = [o for o in outputs if (o.get("metadata") or {}).get("nbtrack", {}).get("chart")]
    assert len(charts) == 2  # one frozen chart per swept run (each ran ~1.5 s)
    assert body.count("nbtrack-live-static") == 2
    assert body.count('class="plotly-graph-div"') >= 3  # the two frozen charts and the comparison's curves
    assert XSS not in body  # the code's payload is shown escaped, never as markup
