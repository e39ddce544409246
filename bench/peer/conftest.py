"""The pytest peer: how a course writes a grader for CI, with dlgrade's own checks as its tests.

One test per check; the student's module is imported into the test process
(no sandbox); one fresh ``python -m pytest`` per submission. Point it at a
submission with DLGRADE_PEER_ASSIGNMENT and DLGRADE_PEER_SUBMISSION.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/ for inprocess

ASSIGNMENT = os.environ.get("DLGRADE_PEER_ASSIGNMENT", "a1")
SUBMISSION = Path(os.environ.get("DLGRADE_PEER_SUBMISSION", "reference/a1"))
