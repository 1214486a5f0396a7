#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (playwright drives it; playwright's
# own browser download is not used). Needs root or sudo; does nothing if present.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install_browser: chromium is missing and we are not root; install Debian's 'chromium' package" >&2
    exit 1
  fi
fi
echo "install_browser: installing Debian's chromium (for the browser tests)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null
