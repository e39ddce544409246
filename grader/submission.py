"""Read a submission (folder, .zip or .ipynb) into a private staging folder.

The parent reads student-supplied files here, so everything is bounded: only
regular files (no symlinks), only the names the assignment expects plus
``answers.toml``, a size cap per file and per archive, and no path from an
archive is ever used as a path. A folder or zip whose files sit one folder
down (``my_submission/mlp.py`` inside the zip) is accepted too.
"""

from __future__ import annotations

import json
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.errors import SubmissionError

ANSWERS_FILE = "answers.toml"
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 2000
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Submission:
    """The files found, staged as regular files the grader owns."""

    source: str
    files: dict[str, Path]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def has(self, name: str) -> bool:
        return name in self.files


def _wanted(expected: tuple[str, ...]) -> set[str]:
    return set(expected) | {ANSWERS_FILE}


def _copy_bounded(data: bytes, name: str, staging: Path) -> Path:
    if len(data) > MAX_FILE_BYTES:
        raise SubmissionError(f"{name} is larger than {MAX_FILE_BYTES >> 20} MiB")
    target = staging / name
    target.write_bytes(data)
    return target


def _from_folder(folder: Path, expected: tuple[str, ...], staging: Path) -> tuple[dict[str, Path], list[str]]:
    wanted, notes = _wanted(expected), []
    names = {p.name for p in folder.iterdir()}
    if not names & set(expected):
        subfolders = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
        if len(subfolders) == 1:
            folder = subfolders[0]
            notes.append(f"files read from the subfolder {folder.name}/")
    files = {}
    for name in sorted(wanted):
        path = folder / name
        try:
            info = path.lstat()
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(info.st_mode):
            notes.append(f"{name} is not a regular file (a link or folder?) and was ignored")
            continue
        if info.st_size > MAX_FILE_BYTES:
            raise SubmissionError(f"{name} is larger than {MAX_FILE_BYTES >> 20} MiB")
        files[name] = _copy_bounded(path.read_bytes(), name, staging)
    return files, notes


def _from_zip(path: Path, expected: tuple[str, ...], staging: Path) -> tuple[dict[str, Path], list[str]]:
    wanted, notes = _wanted(expected), []
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{path} is not a readable zip file ({exc})") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ARCHIVE_ENTRIES:
            raise SubmissionError(f"{path} has more than {MAX_ARCHIVE_ENTRIES} entries")
        by_depth: dict[str, list[zipfile.ZipInfo]] = {}
        for entry in entries:
            parts = PurePosixPath(entry.filename.replace("\\", "/")).parts
            if entry.is_dir() or not parts or parts[0] == "__MACOSX" or parts[-1] not in wanted:
                continue
            if len(parts) <= 2:
                by_depth.setdefault(parts[-1], []).append(entry)
        files = {}
        for name, candidates in sorted(by_depth.items()):
            entry = min(candidates, key=lambda e: e.filename.count("/"))
            if entry.file_size > MAX_FILE_BYTES:
                raise SubmissionError(f"{name} in {path.name} is larger than {MAX_FILE_BYTES >> 20} MiB")
            with archive.open(entry) as f:
                data = f.read(MAX_FILE_BYTES + 1)
            files[name] = _copy_bounded(data, name, staging)
            if "/" in entry.filename.strip("/"):
                notes.append(f"{name} read from {entry.filename}")
    return files, notes


def notebook_code(path: Path) -> str:
    """The code cells of a Jupyter notebook, with IPython magics commented out."""
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES >> 20} MiB")
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook["cells"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"{path.name} is not a valid Jupyter notebook ({exc})") from None
    chunks = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        lines = [f"# (magic) {line}" if line.lstrip().startswith(("%", "!")) else line
                 for line in source.splitlines()]
        chunks.append(f"# --- notebook cell {number} ---\n" + "\n".join(lines))
    return "\n\n".join(chunks) + "\n"


def load_submission(path: str | Path, expected: tuple[str, ...], staging: Path) -> Submission:
    """Stage the submission at ``path``; raise ``SubmissionError`` if it cannot be read at all."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"no such file or folder: {path}")
    staging.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        files, notes = _from_folder(path, expected, staging)
    elif path.suffix == ".zip":
        files, notes = _from_zip(path, expected, staging)
    elif path.suffix == ".ipynb":
        code = notebook_code(path).encode()
        files = {name: _copy_bounded(code, name, staging) for name in expected if name.endswith(".py")}
        notes = [f"the notebook's code cells were graded as {', '.join(sorted(files))}"]
        answers = path.with_name(ANSWERS_FILE)
        if answers.is_file() and not answers.is_symlink():
            files[ANSWERS_FILE] = _copy_bounded(answers.read_bytes(), ANSWERS_FILE, staging)
    else:
        raise SubmissionError(f"{path} is not a folder, a .zip or an .ipynb notebook")
    return Submission(source=str(path), files=files, notes=tuple(notes))
