"""a2 is fully public in the student build: nothing hidden for a correct submission, and the bugs that the
mutation analysis' new cases catch are caught there too (slow: builds an a2 student wheel)."""

from __future__ import annotations

import pytest

from tests.assignments.a2_bugs.bugs import ANSWERS, BUGS
from tests.conftest import ROOT
from tests.packaging.conftest import make_student_env

NEW_BUGS = ("a second backward() keeps the first one's grads", "unsqueeze backward squeezes every axis")


@pytest.mark.slow
def test_a2_student_build_hides_nothing_and_catches_the_new_bugs(tmp_path):
    env = make_student_env(tmp_path, seeds=(1,), assignments=["a2"])
    assert env.pack.manifest["hidden"].get("a2", {}) == {}
    report = env.check("a2", ROOT / "tests" / "assignments" / "a2_bugs" / "correct", 1)
    assert report["hidden_points"] == 0 and report["score"] == report["max_score"], [
        (c["id"], c["status"]) for c in report["checks"] if c["status"] != "passed"]
    for index, name in enumerate(NEW_BUGS):
        folder = tmp_path / f"bug{index}"
        folder.mkdir()
        (folder / "autograd.py").write_text(BUGS[name].source())
        (folder / "answers.toml").write_text(ANSWERS)
        checks = {c["id"]: c for c in env.check("a2", folder, 1, tuple(BUGS[name].fails))["checks"]}
        for check_id, gist in BUGS[name].fails.items():
            assert checks[check_id]["status"] == "failed", (name, checks[check_id]["message"])
            assert gist in checks[check_id]["message"] + " " + checks[check_id]["hint"], name
