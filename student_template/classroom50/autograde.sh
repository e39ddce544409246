#!/usr/bin/env bash
# For a runner that calls a shell script (Classroom 50 itself runs autograder.py, next to this file).
# It must leave result.json in the current folder; the runner sets CLASSROOM, ASSIGNMENT, USERNAME,
# SUBMISSION_TAG, COMMIT_URL and RELEASE_URL.
set -uo pipefail
python3 -m pip install --quiet -r .github/dlgrade-requirements.txt
dlgrade ci "${DLGRADE_ASSIGNMENT:-__ASSIGNMENT__}" . --emit classroom50
