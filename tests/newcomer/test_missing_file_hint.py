"""A student who named the file model.py instead of the handout's lenet.py/mlp.py is told which file the grader
saw and what to rename, not only "must contain mlp.py at its top level"."""

from __future__ import annotations

from grader import api
from tests.conftest import REFERENCE_A1


def test_a_lone_file_with_another_name_is_named_in_the_hint(tmp_path):
    (tmp_path / "network.py").write_text(REFERENCE_A1)
    report = api.check("a1", tmp_path, tasks=["1.1"], seed=3)
    failed = [c for c in report.checks if c.status == "failed"]
    assert failed and all("mlp.py was not found" in c.message for c in failed)
    assert all("network.py" in c.hint and "mlp.py" in c.hint for c in failed), failed[0].hint
