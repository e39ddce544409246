"""A Canvas download is regrouped in a temporary folder: reports, `gradebook show` and the students' feedback
must name the student's submission, not that folder (gone after the run, meaningless to a student)."""

from __future__ import annotations

import tempfile

from grader.batch.api import grade_class
from tests.conftest import REFERENCE_A1


def test_a_canvas_submission_is_named_by_its_student_not_by_the_staging_folder(tmp_path):
    root = tmp_path / "canvas"
    root.mkdir()
    (root / "doejane_12345_678901_mlp.py").write_text(REFERENCE_A1)
    (root / "roebob_LATE_23456_678902_mlp-1.py").write_text(REFERENCE_A1)
    result = grade_class("a1", root, gradebook=tmp_path / "gb.sqlite", tasks=["1.1"], seed=3)
    labels = {student: report.submission for student, report in result.graded.items()}
    assert set(labels) == {"12345", "23456"}
    for student, label in labels.items():
        assert tempfile.gettempdir() not in label and "regrouped" not in label, label
        assert student in label and "canvas" in label, label
