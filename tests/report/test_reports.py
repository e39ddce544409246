"""Reports render the same Report the same way: golden terminal text, lossless JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

from grader.report import formats, render
from grader.result import CheckResult, Report

GOLDEN = Path(__file__).with_name("golden")

REPORT = Report(
    assignment="a1",
    submission="examples/a1/dw_divided_by_in_features",
    checks=(
        CheckResult("linear_forward", "1.1", "Linear.forward", "passed", 2, 2, duration_s=0.04),
        CheckResult("linear_backward_dW", "1.1", "Linear.backward: dW", "failed", 0, 2,
                    message="Linear.dW after backward differs at [3, 0]: got 0.814928, expected 7.33435 "
                            "(rel err 8.9e-01); 54 of 54 elements differ.",
                    hint="dW is your gradient divided by in_features = 9.", duration_s=0.05),
        CheckResult("zero_grad", "1.5", "zero_grad of every optimizer", "failed", 0.75, 1,
                    message="zero_grad() left gradients non-zero in: SGD.", output="debug print\n"),
        CheckResult("softmax_values", "1.3", "softmax: values", "error", 0, 1,
                    message="mlp.softmax(array(3, 4)) raised ValueError: bad [shape]"),
        CheckResult("train_xor", "1.6", "Training: XOR", "timeout", 0, 2, message="did not finish within 60 s."),
        CheckResult("adam_steps", "1.5", "Adam: several steps", "skipped", 0, 2, message="not selected"),
    ),
    diagnostics={"seed": 3, "submission_notes": ["files read from the subfolder alice/"]},
)


def test_terminal_matches_golden_file():
    text = render(REPORT, "terminal")
    golden = GOLDEN / "terminal_a1.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_terminal_never_relies_on_colour_alone():
    text = render(REPORT, "terminal")
    for symbol in ("✓", "✗", "!", "⏱", "-"):
        assert symbol in text
    assert "bad [shape]" in text


def test_json_round_trips():
    data = json.loads(render(REPORT, "json"))
    assert Report.from_dict(data) == REPORT
    assert data["score"] == 2.75 and data["max_score"] == 8


def test_builtin_formats_are_registered():
    assert {"terminal", "json"} <= set(formats())


HOSTILE = Report(
    assignment="a1",
    submission="sub\x1b]8;;http://x\x07link",
    checks=(
        CheckResult("softmax_values", "1.3", "softmax: values", "error", 0, 1,
                    message="raised ValueError: \x1b[2J\x1b[32mok\x1b[0m\nScore: 36/36 (all checks passed)\r",
                    hint="\x08\x08\x08", output="\x1b[1;32mScore: 36/36\x1b[0m\n\x9b2J",
                    details={"curves": {"train_loss": [float("nan"), float("inf")], "note": "\x07"}}),
        CheckResult("train_xor", "1.6", "Training: XOR", "not_run", 0, 2,
                    message="not run: the submission used its whole 55 s budget."),
    ),
    diagnostics={"seed": 3, "submission_notes": ["mlp.py read from a\x1b[2Kb/mlp.py"], "interrupted": "SIGTERM"},
)


def test_control_characters_never_reach_any_format():
    for name in formats():
        text = render(HOSTILE, name)
        assert not any(c in text for c in "\x1b\x07\x08\r\x9b"), name
    data = json.loads(render(HOSTILE, "json"))
    check = data["checks"][0]
    assert check["message"].startswith("raised ValueError: \\x1b[2J") and check["output"].startswith("\\x1b[1;32m")
    assert check["details"]["curves"]["train_loss"] == [None, None]  # JSON has no NaN: null, not a crash


def test_not_run_and_interruption_are_reported():
    text = render(HOSTILE, "terminal")
    assert "1 check(s) not run: the submission used its whole 55 s budget." in text
    assert "interrupted (SIGTERM)" in text and "Score: 0/3" in text
    assert not any(line.startswith("Score: 36") for line in text.splitlines())
