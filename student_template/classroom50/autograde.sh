#!/usr/bin/env bash
# Classroom 50 runs this in the student's repository; it must leave result.json in the current folder.
# The runner sets CLASSROOM, ASSIGNMENT, USERNAME, SUBMISSION_TAG, COMMIT_URL and RELEASE_URL.
set -uo pipefail
python3 -m pip install --quiet -r .github/dlgrade-requirements.txt
dlgrade ci "${DLGRADE_ASSIGNMENT:-__ASSIGNMENT__}" . --emit classroom50
