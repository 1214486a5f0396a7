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
export MPLBACKEND=Agg
exec .venv/bin/python -m pytest "$@"
