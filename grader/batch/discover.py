"""Find the students in an LMS download: one ``Entry`` per student, with their id.

SUBMISSIONS is a folder (or a zip of one) whose entries are submissions:
folders, zips or notebooks. Recognised layouts, tried in this order:

- Gradescope export: ``submission_metadata.yml`` beside ``submission_NNN/`` folders; the id is the
  submitter's ``sid`` (else their email, else the folder name).
- Moodle: folders ``Full Name_123456_assignsubmission_file_``; the id is the number.
- Canvas: flat files ``name_id_attempt_file`` (``name_LATE_id_attempt_file`` when late), one file per
  file submitted; the id is the number, the files are regrouped into one folder per student.
- Cloned repositories (GitHub Classroom): folders holding ``.git``; the id is the folder name without the
  prefix every folder shares (``a1-alice`` -> ``alice``).
- Anything else: each folder, .zip or .ipynb is one student named after it.

Everything here reads student-supplied names and files in the parent, so it is
bounded: no symlink is followed, archive paths are never used as paths, sizes are capped.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from grader.batch import yamlish
from grader.errors import DISK_FULL, UsageError
from grader.text import from_os

MAX_ARCHIVE_BYTES = 2 << 30
MAX_ARCHIVE_ENTRIES = 100_000
HASH_CAP_BYTES = 64 << 20
SUBMISSION_SUFFIXES = (".zip", ".ipynb")
CANVAS = re.compile(r"^(?P<name>[^_]+?)(?:_LATE)?_(?P<id>\d+)_(?P<attempt>\d+)_(?P<file>.+)$")
MOODLE = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<kind>file|onlinetext)_?$")
CANVAS_COPY = re.compile(r"^(?P<stem>.+?)-\d+(?P<suffix>\.[^.]+)$")


@dataclass(frozen=True)
class Entry:
    """One student's submission as found in the download."""

    student: str
    path: Path
    layout: str
    name: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _visible(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if not p.name.startswith((".", "__MACOSX", "~$")))


def _is_submission(path: Path) -> bool:
    info = path.lstat()
    return stat.S_ISDIR(info.st_mode) or (stat.S_ISREG(info.st_mode) and path.suffix.lower() in SUBMISSION_SUFFIXES)


def _unwrap(path: Path, expected: tuple[str, ...]) -> Path:
    """A student folder that holds only one zip or notebook (and none of the expected files) is that file."""
    if not path.is_dir() or path.is_symlink():
        return path
    try:
        inside = _visible(path)
    except OSError:  # unreadable: this student's folder as it is, and grading it says why
        return path
    if any(p.name in expected for p in inside):
        return path
    candidates = [p for p in inside if p.is_file() and not p.is_symlink() and p.suffix.lower() in SUBMISSION_SUFFIXES]
    return candidates[0] if len(candidates) == 1 else path


def extract_zip(archive: Path, into: Path, failures: dict[Path, str] | None = None) -> Path:
    """Extract a class download zip safely (no path from the archive is trusted) and return its root.

    A member that cannot be extracted (corrupt, encrypted, an unsupported compression, a name the file system
    refuses) is left as an empty file, so that its student is still found, and ``failures`` gets its path and
    why: that student is "not graded" (``owners``), the rest of the class is not touched.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UsageError(f"{archive} is not a readable zip file ({exc})") from None
    with zf:
        entries = zf.infolist()
        if len(entries) > MAX_ARCHIVE_ENTRIES or sum(e.file_size for e in entries) > MAX_ARCHIVE_BYTES:
            raise UsageError(f"{archive} is too large to extract (over {MAX_ARCHIVE_ENTRIES} entries or "
                             f"{MAX_ARCHIVE_BYTES >> 30} GiB)")
        for entry in entries:
            parts = [p for p in PurePosixPath(entry.filename.replace("\\", "/")).parts
                     if p not in ("", ".", "..", "/")]
            if entry.is_dir() or not parts or (entry.external_attr >> 16) & 0o170000 == 0o120000:
                continue  # folders are made as needed; symlinks are never created
            target = into.joinpath(*parts)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(entry) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
                if isinstance(exc, OSError) and exc.errno in DISK_FULL:
                    raise
                if failures is None:
                    raise UsageError(f"{archive}: {from_os(entry.filename)} cannot be extracted ({exc})") from None
                failures[target] = f"{from_os(entry.filename)} in {from_os(archive.name)} cannot be extracted ({exc})"
                with contextlib.suppress(OSError):
                    target.write_bytes(b"")
    roots = _visible(into)
    if len(roots) == 1 and roots[0].is_dir() and not roots[0].name.startswith("submission_"):
        inner = _visible(roots[0])
        if inner and all(_is_submission(p) or CANVAS.match(p.name) for p in inner):
            return roots[0]
    return into


def _gradescope(root: Path, expected) -> list[Entry]:
    text = (root / "submission_metadata.yml").read_text(encoding="utf-8", errors="replace")[:8 << 20]
    meta = yamlish.submitters(text)
    entries = []
    for folder in _visible(root):
        if not folder.is_dir() or folder.is_symlink():
            continue
        people = meta.get(folder.name, [])
        first = people[0] if people else {}
        student = first.get("sid") or first.get("email") or folder.name
        notes = (f"group submission with {', '.join(p.get('name', '?') for p in people[1:])}",) if len(people) > 1 \
            else ()
        entries.append(Entry(student, _unwrap(folder, expected), "gradescope", first.get("name", ""), notes))
    return entries


def _moodle(root: Path, expected) -> list[Entry]:
    entries = []
    for folder in _visible(root):
        match = MOODLE.match(folder.name)
        if match and match["kind"] == "file" and folder.is_dir():
            entries.append(Entry(match["id"], _unwrap(folder, expected), "moodle", match["name"]))
    return entries


def _canvas(root: Path, staging: Path, expected) -> list[Entry]:
    files: dict[str, dict[int, list[tuple[str, Path]]]] = defaultdict(lambda: defaultdict(list))
    names = {}
    for path in _visible(root):
        match = CANVAS.match(path.name)
        if match and path.is_file() and not path.is_symlink():
            files[match["id"]][int(match["attempt"])].append((match["file"], path))
            names[match["id"]] = match["name"]
    entries = []
    for student, attempts in sorted(files.items()):
        latest = attempts[max(attempts)]
        if len(latest) == 1 and latest[0][1].suffix.lower() in SUBMISSION_SUFFIXES:
            entries.append(Entry(student, latest[0][1], "canvas", names[student]))
            continue
        folder = staging / f"canvas-{student}"
        folder.mkdir(parents=True, exist_ok=True)
        notes = []
        for original, path in latest:
            copy = CANVAS_COPY.match(original)
            name = original
            if original not in expected and copy and copy["stem"] + copy["suffix"] in expected:
                name = copy["stem"] + copy["suffix"]  # Canvas renames a resubmitted mlp.py to mlp-1.py
                notes.append(f"{original} graded as {name}")
            shutil.copyfile(path, folder / name)
        entries.append(Entry(student, folder, "canvas", names[student], tuple(notes)))
    return entries


def _repositories(root: Path) -> list[Entry]:
    folders = [p for p in _visible(root) if p.is_dir() and (p / ".git").exists()]
    prefix = os.path.commonprefix([p.name for p in folders]) if len(folders) > 1 else ""
    prefix = prefix[:prefix.rfind("-") + 1] if "-" in prefix else ""
    return [Entry(p.name[len(prefix):] or p.name, p, "repository") for p in folders]


def _plain(root: Path, expected) -> list[Entry]:
    return [Entry(p.stem if p.is_file() else p.name, _unwrap(p, expected), "folder")
            for p in _visible(root) if _is_submission(p)]


def discover(root: Path, staging: Path, expected: tuple[str, ...],
             duplicates: dict[str, str] | None = None) -> list[Entry]:
    """The students in ``root`` (an extracted folder), sorted by id; Canvas files are regrouped in ``staging``.

    Two submissions for one id are a ``UsageError``, or, given ``duplicates``, that student's entry there (why, one
    sentence) and neither submission in the list: the rest of the class is graded.
    """
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder or a .zip of submissions")
    if (root / "submission_metadata.yml").is_file():
        entries = _gradescope(root, expected)
    elif any(MOODLE.match(p.name) for p in _visible(root)):
        entries = _moodle(root, expected)
    elif any(CANVAS.match(p.name) and p.is_file() for p in _visible(root)):
        entries = _canvas(root, staging, expected)
    elif any((p / ".git").exists() for p in _visible(root) if p.is_dir()):
        entries = _repositories(root)
    else:
        entries = _plain(root, expected)
    # Ids, names and notes come from file names (not always UTF-8: a Windows zip) and LMS files: made encodable here,
    # once, so that a gradebook row, a summary line or an export never meets a lone surrogate. Paths stay as they are.
    entries = [replace(e, student=from_os(e.student), name=from_os(e.name), notes=tuple(from_os(n) for n in e.notes))
               for e in entries]
    seen: dict[str, Entry] = {}
    clashes: dict[str, str] = {}
    for entry in entries:
        if entry.student in seen:
            why = (f"two submissions for student {entry.student}: {from_os(seen[entry.student].path.name)} and "
                   f"{from_os(entry.path.name)}; keep one and rerun")
            if duplicates is None:
                raise UsageError(why)
            clashes.setdefault(entry.student, why)
        seen[entry.student] = entry
    if duplicates is not None:
        duplicates.update(clashes)
    return sorted((e for e in entries if e.student not in clashes), key=lambda e: e.student)


def owners(failures: dict[Path, str], entries: list[Entry]) -> dict[str, str]:
    """{student: why} for the students whose files are among ``failures`` (``extract_zip``): the file is their
    submission or inside it, or (Canvas' flat files) its name carries their id."""
    found: dict[str, str] = {}
    for target, why in failures.items():
        match = CANVAS.match(target.name)
        for entry in entries:
            if target == entry.path or target.is_relative_to(entry.path) or (
                    match and entry.layout == "canvas" and from_os(match["id"]) == entry.student):
                found.setdefault(entry.student, why)
    return found


def submission_hash(path: Path) -> str:
    """SHA-256 over the submission's regular files (names and bytes, symlinks and .git skipped), capped in size."""
    digest = hashlib.sha256()
    budget = HASH_CAP_BYTES
    paths = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if ".git" not in p.relative_to(path).parts)
    for item in paths:
        try:
            info = item.lstat()
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        digest.update(os.fsencode(item.relative_to(path) if item != path else item.name) + b"\0")  # any name's bytes
        with open(item, "rb") as f:
            data = f.read(max(budget, 0))
        budget -= len(data)
        digest.update(len(data).to_bytes(8, "little") + data)
        if info.st_size > len(data):
            digest.update(f"{info.st_size}:{info.st_mtime_ns}".encode())
    return digest.hexdigest()
