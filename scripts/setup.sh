#!/usr/bin/env bash
# Create .venv (if needed) and install dlgrade with the pinned versions. Sourced by demo.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[${DLGRADE_EXTRAS:-test}]"
