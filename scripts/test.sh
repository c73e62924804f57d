#!/usr/bin/env bash
# The whole test suite: set up .venv with the dev extras, lint, type-check, then run pytest.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k filter`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[dev]"
.venv/bin/ruff check nbtrack tests bench
.venv/bin/ruff format --check nbtrack tests bench
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
