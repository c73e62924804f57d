"""Writes notebooks/quickstart.ipynb (kept as code so the notebook's diff stays reviewable)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    new_markdown_cell(
        "# nbtrack quickstart\n\n"
        "Put `%%track` on top of a cell: every run of it is recorded — the params it assigns, the "
        "numbers it leaves behind, the curves it logs, its code and context — with no other change."
    ),
    new_code_cell("%load_ext nbtrack\nimport math\nimport random\n\nimport nbtrack"),
    new_code_cell(
        "def train(lr: float, epochs: int, seed: int = 0):\n"
        '    """A stand-in for real training: yields (loss, acc) per step."""\n'
        "    rng = random.Random(seed)\n"
        "    for step in range(epochs * 100):\n"
        "        progress = 1 - math.exp(-lr * 50 * (step + 1) / 100)\n"
        "        loss = 2.3 * (1 - progress) + 0.05 + rng.gauss(0, 0.02)\n"
        "        yield loss, 0.1 + 0.85 * progress"
    ),
    new_markdown_cell(
        "A tracked cell: `lr`, `epochs` and `layers` become params, `nbtrack.log` makes curves, and "
        "`acc` (a number the cell leaves behind) becomes a metric. The line below the cell summarises "
        "the run."
    ),
    new_code_cell(
        "%%track -e quickstart\n"
        "lr = 0.01\n"
        "epochs = 5\n"
        "layers = [64, 32]\n"
        "for loss, acc in train(lr, epochs):\n"
        "    nbtrack.log(loss=loss, acc=acc)\n"
        "final_acc = acc\n"
        "final_acc"
    ),
    new_markdown_cell("The same cell once per value, each combination its own run:"),
    new_code_cell(
        "%%track -e quickstart --sweep lr=0.001,0.1\n"
        "lr = 0.01\n"
        "epochs = 5\n"
        "layers = [64, 32]\n"
        "for loss, acc in train(lr, epochs):\n"
        "    nbtrack.log(loss=loss, acc=acc)\n"
        "final_acc = acc"
    ),
    new_markdown_cell(
        "Recent runs, and a query with MLflow's search syntax (plus `OR`, `NOT`, parentheses):"
    ),
    new_code_cell("%track"),
    new_code_cell(
        "good = nbtrack.runs(filter='metrics.final_acc > 0.85 and params.lr > 0.005', "
        "experiment='quickstart', order_by=['metrics.final_acc DESC'])\n"
        "good[['seq', 'status', 'params.lr', 'metrics.final_acc']]"
    ),
    new_code_cell(
        "mine = nbtrack.runs(experiment='quickstart', order_by='seq', limit=3)\n"
        "first, last = int(mine['seq'].min()), int(mine['seq'].max())\n"
        "%track diff $first $last"
    ),
    new_code_cell("best = nbtrack.get_run(int(good['seq'].iloc[0]))\nbest.history('loss').tail()"),
    new_markdown_cell("Checks (this notebook runs in CI):"),
    new_code_cell(
        "recent = nbtrack.runs(experiment='quickstart', order_by='seq DESC', limit=3)\n"
        "assert list(recent['status']) == ['FINISHED'] * 3\n"
        "assert sorted(recent['params.lr']) == [0.001, 0.01, 0.1]\n"
        "assert len(set(recent['tags.sweep'].dropna())) == 1\n"
        "assert best.params['layers'] == [64, 32] and best.param_origins['lr'] == 'literal'\n"
        "assert len(best.history('loss')) == 500 and 'final_acc' in best.metrics\n"
        "assert best.info.source.startswith('lr = ')\n"
        "print('quickstart OK')"
    ),
]


def write(cells: list[nbformat.NotebookNode], name: str) -> None:
    """Validate and write ``cells`` as notebooks/<name> with a python3 kernelspec (Lab needs one)."""
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {
                "name": "python3",
                "language": "python",
                "display_name": "Python 3 (ipykernel)",
            },
            "language_info": {"name": "python"},
        },
    )
    nbformat.validate(nb)
    nbformat.write(nb, Path(__file__).with_name(name))


def main() -> None:
    write(CELLS, "quickstart.ipynb")


if __name__ == "__main__":
    main()
