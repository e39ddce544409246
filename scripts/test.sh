#!/usr/bin/env bash
# Install (with the test extras), then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
DLGRADE_EXTRAS="test,torch" bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
