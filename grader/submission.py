"""Read a submission (folder, .zip or .ipynb) into a private staging folder.

The parent reads student-supplied files here, so everything is bounded: only
regular files (no symlinks), only the names the assignment expects plus
``answers.toml``, a size cap per file and per archive, and no path from an
archive is ever used as a path. A folder or zip whose files sit one folder
down (``my_submission/mlp.py`` inside the zip) is accepted too.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.errors import SubmissionError
from grader.notebook import notebook_module, read_bounded

ANSWERS_FILE = "answers.toml"
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 2000


@dataclass(frozen=True)
class Submission:
    """The files found, staged as regular files the grader owns."""

    source: str
    files: dict[str, Path]
    notes: tuple[str, ...] = field(default_factory=tuple)
    # For files generated from a notebook: per line, where it came from ("cell 3, line 2").
    origins: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Other file names seen where the expected ones were looked for (for "did you mean ...?").
    seen: tuple[str, ...] = ()

    def has(self, name: str) -> bool:
        return name in self.files

    def did_you_mean(self, name: str) -> str | None:
        """The seen file name that most looks like the missing ``name``, if one does."""
        import difflib

        candidates = [n for n in self.seen if n not in self.files]
        lowered = {n.lower(): n for n in candidates}
        if name.lower() in lowered:
            return lowered[name.lower()]
        stem = name.rsplit(".", 1)[0]
        same_kind = [n for n in candidates if n.endswith(name[len(stem):])] or candidates
        close = difflib.get_close_matches(name, same_kind, n=1, cutoff=0.6)
        if close:
            return close[0]
        contains = [n for n in same_kind if stem in n.lower()]
        return contains[0] if len(contains) == 1 else None


MAX_SEEN_NAMES = 200


def _names_seen(path: Path) -> tuple[str, ...]:
    """File names at the top of a folder or zip (and one folder down), for suggestions; never raises."""
    names: list[str] = []
    try:
        if path.is_dir():
            with os.scandir(path) as entries:
                for entry in entries:
                    if len(names) >= MAX_SEEN_NAMES:
                        break
                    if entry.is_file(follow_symlinks=False):
                        names.append(entry.name)
                    elif entry.is_dir(follow_symlinks=False) and not entry.name.startswith((".", "__")):
                        with os.scandir(entry.path) as inner:
                            names.extend(e.name for e in list(inner)[:MAX_SEEN_NAMES]
                                         if e.is_file(follow_symlinks=False))
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist()[:MAX_ARCHIVE_ENTRIES]:
                    parts = PurePosixPath(info.filename.replace("\\", "/")).parts
                    if not info.is_dir() and 0 < len(parts) <= 2 and parts[0] != "__MACOSX":
                        names.append(parts[-1])
    except (OSError, zipfile.BadZipFile, ValueError):
        pass
    return tuple(dict.fromkeys(names))[:MAX_SEEN_NAMES]


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


def load_submission(path: str | Path, expected: tuple[str, ...], staging: Path,
                    notebook_statements: str = "definitions") -> Submission:
    """Stage the submission at ``path``; raise ``SubmissionError`` if it cannot be read at all.

    ``path`` may also be one of the expected files (``mlp.py``): its folder is graded.
    ``notebook_statements`` is ``"definitions"`` (a notebook's training runs and prints are
    left out) or ``"all"``.
    """
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise SubmissionError(f"no such file or folder: {path}")
    staging.mkdir(parents=True, exist_ok=True)
    origins: dict[str, tuple[str, ...]] = {}
    extra_notes: list[str] = []
    if path.is_file() and not path.is_symlink() and path.name in _wanted(expected):
        extra_notes.append(f"{path.name} is one of the assignment's files: graded its folder {path.parent}/")
        path = path.parent
    if path.is_dir():
        files, notes = _from_folder(path, expected, staging)
    elif path.suffix == ".zip":
        files, notes = _from_zip(path, expected, staging)
    elif path.suffix == ".ipynb":
        module = notebook_module(path, notebook_statements)
        code = module.code.encode()
        files = {name: _copy_bounded(code, name, staging) for name in expected if name.endswith(".py")}
        origins = {name: module.origins for name in files}
        notes = [f"the notebook's code cells were graded as {', '.join(sorted(files))}", *module.notes]
        answers = path.with_name(ANSWERS_FILE)
        if answers.is_file() and not answers.is_symlink():
            data = read_bounded(answers, MAX_FILE_BYTES, "The answers file")
            files[ANSWERS_FILE] = _copy_bounded(data, ANSWERS_FILE, staging)
    else:
        raise SubmissionError(f"{path} is not a folder, a .zip or an .ipynb notebook")
    return Submission(source=str(path), files=files, notes=tuple(extra_notes + notes), origins=origins,
                      seen=_names_seen(path))
