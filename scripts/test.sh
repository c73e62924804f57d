#!/usr/bin/env bash
# The whole test suite: set up .venv with the dev extras, lint, type-check, then run pytest.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k filter`).
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests drive for real: a PostgreSQL server (tests start their own, throwaway) and
# Chromium (the browser tests drive a real JupyterLab in it, headless).
# Installed with apt-get when missing and we are root on Debian; otherwise those tests say they skip.
missing=()
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || command -v pg_ctl >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing ${missing[*]} with apt-get" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "note: ${missing[*]} not installed; the tests that need it will skip" >&2
    fi
fi
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[dev]"
.venv/bin/ruff check nbtrack tests bench
.venv/bin/ruff format --check nbtrack tests bench
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
