"""docs/authoring.md's tutorial, run step by step from an empty folder: every command and every file in it.

Fenced ``bash`` blocks are run line by line (``dlgrade`` is this checkout's, ``pip install`` is made offline);
fenced ``python``/``toml``/``markdown`` blocks whose first line names a path (``# course-a5/x.py`` or
``<!-- x.md -->``, with ``(append)`` to add to the file) are written there. Each command must exit 0.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "authoring.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
PATH_LINE = re.compile(r"^(?:#|<!--)\s*(\S+?)(\s+\(append\))?\s*(?:-->)?\s*$")


def steps(text: str) -> list[tuple[str, str, str, bool]]:
    """("run", command) and ("write", path, content, append) in the tutorial's order."""
    tutorial = text[text.index("## Tutorial"):text.index("## Reference")]
    found = []
    for match in FENCE.finditer(tutorial):
        kind, body = match.group(1), match.group(2)
        if kind == "bash":
            found += [("run", line, "", False) for line in body.splitlines() if line.strip()]
            continue
        first, _, rest = body.partition("\n")
        named = PATH_LINE.match(first)
        if named and "/" in named.group(1):
            found.append(("write", named.group(1), rest, bool(named.group(2))))
    return found


def test_the_tutorial_parses_into_commands_and_files():
    found = steps(DOC.read_text(encoding="utf-8"))
    commands = [s[1] for s in found if s[0] == "run"]
    assert commands[0].startswith("dlgrade author new a5 course-a5")
    assert any(c.startswith("dlgrade author verify a5") for c in commands)
    assert any(c.startswith("dlgrade author template a5") for c in commands)
    assert any(s[0] == "write" and s[1].endswith("checks.py") and s[3] for s in found)


@pytest.mark.slow
def test_the_tutorial_runs_from_an_empty_folder(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    venv = tmp_path / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(venv)],
                   check=True, timeout=300)
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "_dlgrade_test.pth").write_text(f"{ROOT}\n{Path(numpy.__file__).resolve().parents[1]}\n")
    python = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DLGRADE_ORACLE")}
    env["COLUMNS"] = "200"
    for step in steps(DOC.read_text(encoding="utf-8")):
        if step[0] == "write":
            _, path, content, append = step
            target = work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("a" if append else "w", encoding="utf-8") as f:
                f.write(content)
            continue
        words = shlex.split(step[1])
        if words[:2] == ["pip", "install"]:  # offline, into the tutorial's venv
            words = [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index",
                     "--no-build-isolation", "--disable-pip-version-check", *words[2:]]
        elif words[0] == "dlgrade":
            words = [python, "-m", "grader.cli", *words[1:]]
        done = subprocess.run(words, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{step[1]}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        if words[-3:] == ["--format", "json"] or "verify" in words and "json" in words:
            import json

            result = json.loads(done.stdout)
            assert result["ok"] and result["reference_score"] == result["max_score"] == 10
            assert result["mutants"]["survivors"] == [], result["mutants"]["survivors"]
    assert "SOLUTION" not in (work / "my-a5" / "cell.py").read_text()
    assert "def softplus" in (work / "my-a5" / "cell.py").read_text()
    assert (work / "template-repo" / ".github" / "workflows" / "grade.yml").is_file()
    assert (work / "autograder.zip").is_file()
