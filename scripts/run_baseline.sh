#!/usr/bin/env bash
# Set up (first time only) and run the baseline scenario; results go under results/.
# Extra arguments are passed to `sim run` (e.g. --seed 7 --set firms.B.price=0.9).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/sim run scenarios/baseline.toml "$@"
