#!/usr/bin/env python3
"""Classroom 50 entrypoint: grade the student's checkout with dlgrade and leave ``result.json``.

Classroom 50's runner fetches this file from the course's Pages site (publish it as the assignment's
``autograder.py``), runs it with the runner's Python in the student's checkout, and passes CLASSROOM,
ASSIGNMENT, SUBMISSION_TAG, USERNAME, OWNER, ASSIGNMENT_TYPE, COMMIT_URL, RELEASE_URL and REVIEW_URL.
It must exit 0: on any other exit the runner throws ``result.json`` away and records a 0/0 error.
dlgrade is installed from ``dlgrade-requirements.txt`` next to this file (the course's bundle, not the
student's repository), unless a ``dlgrade`` is already on PATH.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ASSIGNMENT = os.environ.get("DLGRADE_ASSIGNMENT") or "__ASSIGNMENT__"
BUNDLE = Path(os.environ.get("CLASSROOM50_BUNDLE_DIR") or Path(__file__).resolve().parent)


def main() -> int:
    if shutil.which("dlgrade") is None:
        requirements = BUNDLE / "dlgrade-requirements.txt"
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-r", str(requirements)], check=True)
    done = subprocess.run(["dlgrade", "ci", ASSIGNMENT, ".", "--emit", "classroom50", *sys.argv[1:]], check=False)
    # A failing submission is still exit 0 from dlgrade ci; anything else (exit 2: the runner's environment is
    # incomplete) is passed on so the runner records an error instead of a score.
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
