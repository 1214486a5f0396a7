#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv with Python >= 3.12
# and install the package with its development extras. Idempotent: a second run only
# reinstalls when pyproject.toml changed.
#
# Usage: scripts/setup.sh            # package + dashboard, experiments, notebooks (JupyterLab),
#                                   # browser and dev tools
#        SIM_EXTRAS=dev scripts/setup.sh # a lighter environment
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${SIM_EXTRAS:-dashboard,experiments,notebooks,browser,dev}"
venv=.venv

find_python() {
  local cand
  for cand in "${SIM_PYTHON:-}" python3 python3.13 python3.12; do
    [ -n "$cand" ] || continue
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      command -v "$cand"; return 0
    fi
  done
  local root
  root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
  for cand in "$root"/versions/3.1[2-9]*/bin/python3; do
    if [ -x "$cand" ] && "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  return 1
}

if [ ! -x "$venv/bin/python" ]; then
  if ! py="$(find_python)"; then
    echo "setup: no Python >= 3.12 found (tried \$SIM_PYTHON, python3, python3.12/3.13 and pyenv's versions folder)." >&2
    echo "setup: install Python 3.12+ or point SIM_PYTHON at one, then run this again." >&2
    exit 2
  fi
  echo "setup: creating $venv with $py"
  "$py" -m venv "$venv"
fi

stamp="$venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-${extras//,/_}"
if [ ! -f "$stamp" ]; then
  echo "setup: installing the package with extras [$extras] (about a minute on a fresh machine)"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -e ".[${extras}]"
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi
