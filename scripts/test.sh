#!/usr/bin/env bash
# Set up (first time only) and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# the browser test drives Debian's chromium; in CI a failed install fails the run
if ! scripts/install_browser.sh; then
  if [ "${CI:-}" = "true" ]; then exit 1; fi
  echo "test: chromium unavailable; the browser test will be skipped" >&2
fi
# style: the code is ruff-formatted and lint-clean (a failure names the files)
.venv/bin/ruff format --check --quiet . || { echo "test: run '.venv/bin/ruff format .'" >&2; exit 1; }
.venv/bin/ruff check --quiet .
export MPLBACKEND=Agg
# two workers (this is a 2-core machine); one file per worker keeps module fixtures built once
exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
