#!/usr/bin/env bash
# Install, then grade every bundled example submission and print each report.
set -uo pipefail
cd "$(dirname "$0")/.."
DLGRADE_EXTRAS="test,torch" bash scripts/setup.sh || exit 3
status=0
# The reference (full marks), the starter template (zero), then the example submissions.
for submission in reference/a[1-4]/ student_template/a[1-4]/ examples/*/*/; do
  case "$submission" in
    examples/*) assignment=$(basename "$(dirname "$submission")") ;;
    *) assignment=$(basename "$submission") ;;
  esac
  echo
  echo "=== dlgrade check $assignment $submission"
  .venv/bin/dlgrade check "$assignment" "$submission" --seed 2026
  code=$?
  # 0 and 1 are grades; anything else means the grader itself failed.
  if [ "$code" -gt 1 ]; then status=$code; fi
done
exit $status
