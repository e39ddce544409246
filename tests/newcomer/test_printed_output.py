"""A submission that prints thousands of lines: the report must not claim "... 11 more lines" when the grader kept
only the first few KiB of what was printed (a wrong number, seen on an a4 submission that printed 20,000 lines)."""

from __future__ import annotations

from grader import api
from grader.report.markdown import render_markdown
from grader.report.terminal import render_terminal as render_text
from tests.conftest import REFERENCE_A1, with_prelude


def test_cut_output_is_said_to_be_cut_not_counted(tmp_path, zygote):
    noisy = with_prelude("for _i in range(20000):\n    print('chatter', _i, 'y' * 100)\n",
                         REFERENCE_A1.replace("return x @ self.W + self.b", "return x @ self.W"))
    (tmp_path / "mlp.py").write_text(noisy)
    report = api.check("a1", tmp_path, tasks=["1.1"], seed=3, zygote=zygote)
    failed = [c for c in report.checks if c.status == "failed" and c.output]
    assert failed, [c.status for c in report.checks]
    assert failed[0].output.rstrip().endswith("[... output truncated]")
    for text in (render_text(report), render_markdown(report)):
        assert "more lines" not in text or "output was cut" in text, text[-600:]
        assert "output was cut" in text


def test_short_output_still_counts_its_lines(tmp_path, zygote):
    printing = with_prelude("for _i in range(9):\n    print('line', _i)\n",
                            REFERENCE_A1.replace("return x @ self.W + self.b", "return x @ self.W"))
    (tmp_path / "mlp.py").write_text(printing)
    report = api.check("a1", tmp_path, tasks=["1.1"], seed=3, zygote=zygote)
    assert "... 4 more lines" in render_markdown(report) and "output was cut" not in render_markdown(report)
