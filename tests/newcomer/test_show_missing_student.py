"""`dlgrade gradebook show ID` for a student on the roster who submitted nothing says so, rather than the same
sentence as for a mistyped id."""

from __future__ import annotations

import pytest

from grader.batch.api import student_history
from grader.batch.gradebook import Gradebook
from grader.errors import UsageError


def test_a_roster_student_without_submission_is_named_as_missing(tmp_path):
    book = tmp_path / "gb.sqlite"
    gradebook = Gradebook(book)
    gradebook.set_names("a4", {"10016": "Pat Absent"})
    gradebook.close()
    with pytest.raises(UsageError, match=r"10016.*Pat Absent.*roster.*no submission"):
        student_history(book, "10016")
    with pytest.raises(UsageError) as typo:
        student_history(book, "1016")
    assert "no grades for student '1016'" in str(typo.value) and "on the roster" not in str(typo.value)
