"""A generated class of a1 submissions: correct, buggy, hostile and malformed, in LMS-like layouts."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.conftest import REFERENCE_A1, with_prelude

ROOT = Path(__file__).resolve().parents[2]
# Checks quick enough for a class on 2 cores whose scores still tell the kinds apart.
TASKS = ["1.1", "1.3"]
BUGGY = (REFERENCE_A1.replace("return x @ self.W + self.b", "return x @ self.W")
         if "return x @ self.W + self.b" in REFERENCE_A1 else None)


def kinds() -> list[tuple[str, str, object]]:
    """(kind, description, content) cycled through to make a class; content is a source or a marker."""
    dw_wrong = (ROOT / "examples" / "a1" / "dw_divided_by_in_features" / "mlp.py").read_text()
    mistakes = (ROOT / "examples" / "a1" / "common_mistakes" / "mlp.py").read_text()
    return [
        ("correct", "the reference", REFERENCE_A1),
        ("buggy", "dW divided by in_features", dw_wrong),
        ("correct-zip", "the reference, zipped", ("zip", REFERENCE_A1)),
        ("buggy", "common mistakes", mistakes),
        ("hostile", "exits at import", with_prelude("import sys\nsys.exit(3)\n")),
        ("malformed", "a .zip that is not a zip", ("badzip", b"not a zip at all")),
        ("correct-nb", "the reference as a notebook", ("ipynb", REFERENCE_A1)),
        ("hostile", "prints junk and raises in forward", with_prelude(
            "print('\\x1b[2J\\x07 junk')\n", REFERENCE_A1.replace("def forward(self, x", "def forward(self, x", 1))),
        ("empty", "an empty folder", ("empty", None)),
        ("hostile", "loops forever at import", with_prelude("while True:\n    pass\n")),
        ("buggy", "dW divided by in_features (copy)", dw_wrong),
        ("correct", "the reference again", REFERENCE_A1),
    ]


def write_submission(folder: Path, student: str, content) -> Path:
    """Write one student's submission into ``folder`` and return its path."""
    if isinstance(content, str):
        path = folder / student
        path.mkdir()
        (path / "mlp.py").write_text(content)
        return path
    kind, payload = content
    if kind == "zip":
        path = folder / f"{student}.zip"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(f"{student}/mlp.py", payload)
        return path
    if kind == "badzip":
        path = folder / f"{student}.zip"
        path.write_bytes(payload)
        return path
    if kind == "ipynb":
        import json
        path = folder / f"{student}.ipynb"
        cell = {"cell_type": "code", "id": "c1", "metadata": {}, "outputs": [], "execution_count": None,
                "source": payload}
        path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
        return path
    if kind == "empty":
        path = folder / student
        path.mkdir()
        return path
    raise ValueError(kind)


def make_class(folder: Path, n: int) -> dict[str, tuple[str, Path]]:
    """``n`` students s000.. in ``folder``; returns {student: (kind, path)}."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for i in range(n):
        kind, _, content = kinds()[i % len(kinds())]
        student = f"s{i:03d}"
        made[student] = (kind, write_submission(folder, student, content))
    return made


@pytest.fixture
def small_class(tmp_path):
    return tmp_path / "class", make_class(tmp_path / "class", 12)


