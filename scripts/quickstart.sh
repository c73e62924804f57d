#!/usr/bin/env bash
# The main job: set up .venv, install nbtrack, execute notebooks/quickstart.ipynb headlessly,
# then print the run table from the store the notebook wrote to.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[notebook]"
mkdir -p .nbtrack            # the store lives here: the notebook and the CLI both find it by walking up
.venv/bin/jupyter execute notebooks/quickstart.ipynb
.venv/bin/nbtrack ls --limit 20
