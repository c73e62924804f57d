"""Writes notebooks/quickstart.ipynb (kept as code so the notebook's diff stays reviewable)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    new_markdown_cell(
        "# nbtrack quickstart\n\n"
        "Track a few training runs, then query them as a DataFrame with MLflow's search syntax."
    ),
    new_code_cell("import math\nimport random\n\nimport nbtrack"),
    new_code_cell(
        "def train(lr: float, epochs: int, seed: int = 0):\n"
        '    """A stand-in for real training: yields (loss, acc) per step."""\n'
        "    rng = random.Random(seed)\n"
        "    for step in range(epochs * 100):\n"
        "        progress = 1 - math.exp(-lr * 50 * (step + 1) / 100)\n"
        "        loss = 2.3 * (1 - progress) + 0.05 + rng.gauss(0, 0.02)\n"
        "        yield loss, 0.1 + 0.85 * progress"
    ),
    new_code_cell(
        "made = []\n"
        "for lr in (0.001, 0.01, 0.1):\n"
        "    with nbtrack.start_run(name=f'lr={lr}', experiment='quickstart',\n"
        "                           params={'lr': lr, 'epochs': 5, 'layers': [64, 32]},\n"
        "                           tags={'stage': 'demo'}) as run:\n"
        "        for step, (loss, acc) in enumerate(train(lr, epochs=5)):\n"
        "            run.log(step=step, loss=loss, acc=acc)\n"
        "        run.note(f'learning rate {lr}')\n"
        "    made.append(run)\n"
        "[f'run #{r.seq}: {r.status}' for r in made]"
    ),
    new_markdown_cell(
        "Every run, newest first, with `params.*`, `metrics.*` and `tags.*` columns:"
    ),
    new_code_cell(
        "df = nbtrack.runs(experiment='quickstart', order_by=['metrics.acc DESC'], limit=10)\n"
        "df[['seq', 'name', 'status', 'params.lr', 'metrics.acc', 'metrics.loss']]"
    ),
    new_markdown_cell("Filters use MLflow's syntax, plus `OR`, `NOT` and parentheses:"),
    new_code_cell(
        "good = nbtrack.runs(filter='metrics.acc > 0.85 and params.lr > 0.005', "
        "experiment='quickstart')\n"
        "good[['seq', 'name', 'metrics.acc']]"
    ),
    new_code_cell("best = nbtrack.get_run(made[-1].seq)\nbest.history('loss').tail()"),
    new_markdown_cell("Checks (this notebook runs in CI):"),
    new_code_cell(
        "seqs = {r.seq for r in made}\n"
        "mine = df[df['seq'].isin(seqs)]\n"
        "assert len(mine) == 3 and set(mine['status']) == {'FINISHED'}\n"
        "assert set(good['seq']) & seqs == {made[1].seq, made[2].seq}\n"
        "assert len(best.history('loss')) == 500 and best.params['layers'] == [64, 32]\n"
        "print('quickstart OK')"
    ),
]


def main() -> None:
    nb = new_notebook(
        cells=CELLS,
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
    nbformat.write(nb, Path(__file__).with_name("quickstart.ipynb"))


if __name__ == "__main__":
    main()
