"""Writes notebooks/compare.ipynb (kept as code so the notebook's diff stays reviewable)."""

from __future__ import annotations

from make_quickstart import write  # notebooks/ is sys.path[0] when this script runs
from nbformat.v4 import new_code_cell, new_markdown_cell

CELLS = [
    new_markdown_cell(
        "# Comparing runs without leaving the notebook\n\n"
        "A small learning-rate sweep, then the run table (`%track` or `nbtrack.table()`), a live chart "
        "while a slower cell trains, and runs side by side with `nbtrack.compare(...)`."
    ),
    new_code_cell(
        "%load_ext nbtrack\n"
        "import math\n"
        "import random\n"
        "import time\n\n"
        "import nbtrack"
    ),
    new_code_cell(
        "def train(lr: float, steps: int, seed: int = 0, pause: float = 0.0):\n"
        '    """A stand-in for real training: yields (loss, acc) per step."""\n'
        "    rng = random.Random(seed)\n"
        "    for step in range(steps):\n"
        "        progress = 1 - math.exp(-lr * 40 * (step + 1) / 100)\n"
        "        if pause:\n"
        "            time.sleep(pause)\n"
        "        yield 2.3 * (1 - progress) + 0.05 + rng.gauss(0, 0.02), 0.1 + 0.85 * progress"
    ),
    new_markdown_cell(
        "Three runs of one cell, one per learning rate. Each draws a small figure: captured figures "
        "appear side by side in the comparison."
    ),
    new_code_cell(
        "%%track -e compare --sweep lr=0.003,0.01,0.03\n"
        "lr = 0.01\n"
        "optimizer = 'adam'\n"
        "batch_size = 64\n"
        "for loss, acc in train(lr, 400):\n"
        "    nbtrack.log(loss=loss, acc=acc)\n"
        "val_loss = loss * 1.1\n"
        "try:\n"
        "    import matplotlib.pyplot as plt\n"
        "    plt.figure(figsize=(3, 2))\n"
        "    plt.plot([lr * k for k in range(10)])\n"
        "    plt.title(f'lr={lr}')\n"
        "    plt.show()\n"
        "except ImportError:  # the figure is only there to be compared\n"
        "    pass"
    ),
    new_markdown_cell(
        "A slower cell: while it runs, a live chart of its curves redraws below it (a few times a "
        "second), and it stays as the final chart when the cell ends."
    ),
    new_code_cell(
        "%%track -e compare\n"
        "lr = 0.02\n"
        "optimizer = 'sgd'\n"
        "batch_size = 32\n"
        "for loss, acc in train(lr, 60, seed=1, pause=0.1):\n"
        "    nbtrack.log(loss=loss, acc=acc)\n"
        "val_loss = loss * 1.2"
    ),
    new_markdown_cell(
        "The run table: click a header to sort, type a filter such as `metrics.val_loss < 1 and "
        "params.optimizer = 'adam'`, tick runs, then **Compare**, **Tag**, **Note**, **Restore** or "
        "**Delete**. `table.selected` holds the ticked run ids."
    ),
    new_code_cell("table = nbtrack.table(experiment='compare')\ntable"),
    new_markdown_cell("Or compare runs by number (any experiment):"),
    new_code_cell(
        "latest = nbtrack.runs(experiment='compare', order_by='seq DESC', limit=4)\n"
        "panel = nbtrack.compare(sorted(latest['seq']))\n"
        "panel"
    ),
    new_markdown_cell("Checks (this notebook runs in CI):"),
    new_code_cell(
        "assert list(latest['status']) == ['FINISHED'] * 4\n"
        "assert sorted(latest['params.lr']) == [0.003, 0.01, 0.02, 0.03]\n"
        "assert table.view.total >= 4 and len(table.view.rows) >= 4\n"
        "assert len(panel.comparison.records) == 4\n"
        "print('compare OK')"
    ),
]


def main() -> None:
    write(CELLS, "compare.ipynb")


if __name__ == "__main__":
    main()
