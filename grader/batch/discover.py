"""Find the students in an LMS download: one ``Entry`` per student, with their id.

SUBMISSIONS is a folder (or a zip of one) whose entries are submissions:
folders, zips or notebooks. Recognised layouts, tried in this order:

- Gradescope export: ``submission_metadata.yml`` beside ``submission_NNN/`` folders; the id is the
  submitter's ``sid`` (else their email, else the folder name).
  Each submission's ``:created_at:`` is its submission time (``Entry.submitted_at``).
- Moodle: folders ``Full Name_123456_assignsubmission_file_`` and loose files
  ``Full Name_123456_assignsubmission_file_mlp.py``; the id is the number (the grading worksheet's
  "Participant 123456"). Online-text folders are not graded (a note says so).
- Canvas: flat files ``name_id_number_file`` (``name_LATE_id_number_file`` when late), one file per
  file submitted, each with its own number; the id is the user id. Every file of a user id is regrouped
  into one folder; when a name comes twice, the highest number (the latest upload) wins, and Canvas's
  re-upload names (``mlp-1.py``) are graded under the name they stand for (``mlp.py``).

Nothing is dropped silently: a file no student owns, or that the assignment does not read, is listed
(``Discovery.unplaced``, ``Entry.unplaced``), and a regrouped student who lacks an expected file is listed
(``Entry.incomplete``; the grader then reports "missing: FILE" as for ``dlgrade check``).
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
from grader.submission import ANSWERS_FILE
from grader.text import from_os

MAX_ARCHIVE_BYTES = 2 << 30
MAX_ARCHIVE_ENTRIES = 100_000
HASH_CAP_BYTES = 64 << 20
SUBMISSION_SUFFIXES = (".zip", ".ipynb")
CANVAS = re.compile(r"^(?P<name>[^_]+?)(?P<late>_LATE)?_(?P<id>\d+)_(?P<attempt>\d+)_(?P<file>.+)$")
MOODLE = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<kind>file|onlinetext)_?$")
MOODLE_FILE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<kind>file|onlinetext)_(?P<file>.+)$")
CANVAS_COPY = re.compile(r"^(?P<stem>.+?)-\d+(?P<suffix>\.[^.]+)$")


@dataclass(frozen=True)
class Entry:
    """One student's submission as found in the download."""

    student: str
    path: Path
    layout: str
    name: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    submitted_at: str = ""  # when the LMS says it was submitted (its own text; "" when the layout has no time)
    late_marker: bool = False  # the LMS marked it late (Canvas's _LATE), with or without a time
    unplaced: tuple[str, ...] = ()  # this student's files that are not graded (not a file the assignment reads)
    incomplete: tuple[str, ...] = ()  # expected files missing from the regrouped files


@dataclass(frozen=True)
class Discovery:
    """Everything found in a download: the students, and what belongs to none of them."""

    layout: str
    entries: list[Entry]
    unplaced: tuple[str, ...] = ()  # top-level items that are no student's submission, listed for the TA


def _visible(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if not p.name.startswith((".", "__MACOSX", "~$")))


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


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
        if inner and (any(p.name == "submission_metadata.yml" for p in inner)
                      or all(_is_submission(p) or CANVAS.match(p.name) or MOODLE_FILE.match(p.name) for p in inner)):
            return roots[0]
    return into


def _gradescope(root: Path, expected) -> list[Entry]:
    text = (root / "submission_metadata.yml").read_text(encoding="utf-8", errors="replace")[:8 << 20]
    meta = yamlish.submitters(text)
    info = yamlish.submission_fields(text)
    entries = []
    for folder in _visible(root):
        if not folder.is_dir() or folder.is_symlink():
            continue
        people = meta.get(folder.name, [])
        first = people[0] if people else {}
        student = first.get("sid") or first.get("email") or folder.name
        notes = (f"group submission with {', '.join(p.get('name', '?') for p in people[1:])}",) if len(people) > 1 \
            else ()
        fields = info.get(folder.name, {})
        entries.append(Entry(student, _unwrap(folder, expected), "gradescope", first.get("name", ""), notes,
                             submitted_at=fields.get("created_at", ""),
                             late_marker=fields.get("late", "").lower() in ("true", "yes")))
    return entries


def _canonical(original: str, expected: tuple[str, ...], siblings: set[str]) -> str:
    """The file name Canvas started from: ``mlp-1.py`` is ``mlp.py`` when that is a file the assignment reads
    (or another file of the same student); any other name is kept as it is."""
    copy = CANVAS_COPY.match(original)
    if copy is None or original in expected or original == ANSWERS_FILE:
        return original
    stem = copy["stem"] + copy["suffix"]
    return stem if stem in expected or stem == ANSWERS_FILE or stem in siblings else original


def _regroup(student: str, files: list[tuple[int, str, Path]], staging: Path, layout: str,
             expected: tuple[str, ...]) -> tuple[Path, list[str], tuple[str, ...]]:
    """Copy one student's files (``(number, name, path)``) into one folder: per name, the highest number wins.

    Returns the folder (or the only .zip/.ipynb handed in), notes for the report, and the files left out
    because the assignment does not read them (never silently: they are listed)."""
    siblings = {name for _, name, _ in files}
    latest: dict[str, tuple[int, str, Path]] = {}
    notes: list[str] = []
    for number, original, path in sorted(files, key=lambda f: (f[0], f[1])):
        name = _canonical(original, expected, siblings)
        if name in latest:
            notes.append(from_os(f"{latest[name][1]} was replaced by the later {original}"))
        latest[name] = (number, original, path)
    readable = set(expected) | {ANSWERS_FILE}
    kept = {n: f for n, f in latest.items() if n in readable or Path(n).suffix.lower() in SUBMISSION_SUFFIXES}
    unplaced = tuple(sorted(from_os(f[1]) for n, f in latest.items() if n not in kept))
    if len(kept) == 1 and not (set(kept) & readable):
        return next(iter(kept.values()))[2], notes, unplaced  # one zip or notebook: graded as it is
    folder = staging / f"{layout}-{student}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, (_, original, path) in sorted(kept.items()):
        if name != original:
            notes.append(from_os(f"{original} graded as {name}"))
        shutil.copyfile(path, folder / name)
    return folder, notes, unplaced


def _regroup_one(student: str, files: list[tuple[int, str, Path]], staging: Path, layout: str,
                 expected: tuple[str, ...], failures: dict[str, str] | None):
    """``_regroup`` for one student whose failure is theirs alone: recorded in ``failures`` (None: raised).

    An unreadable file in the download, or a bug of ours for one student's names, must not stop the class;
    a full disk would fail every student alike and still ends the run."""
    from grader.batch.faults import crash_sentence, machine_wide

    try:
        return _regroup(student, files, staging, layout, expected)
    except Exception as exc:  # noqa: BLE001 - one student's files: theirs alone
        if failures is None or machine_wide(exc):
            raise
        failures[from_os(student)] = crash_sentence(exc, "copying the submission's files for grading")
        return None


def _incomplete(path: Path, expected: tuple[str, ...]) -> tuple[str, ...]:
    """The expected files a regrouped folder lacks (a zip or notebook is read later, so never incomplete here)."""
    if not path.is_dir():
        return ()
    present = {p.name for p in path.iterdir()}
    if any(Path(n).suffix.lower() in SUBMISSION_SUFFIXES for n in present):
        return ()
    return tuple(name for name in expected if name not in present)


def _moodle(root: Path, staging: Path, expected, failures: dict[str, str] | None = None
            ) -> tuple[list[Entry], list[str]]:
    """Moodle's folders (``Full Name_123_assignsubmission_file_``) and loose files (``..._file_mlp.py``)."""
    folders: dict[str, Path] = {}
    loose: dict[str, list[tuple[int, str, Path]]] = defaultdict(list)
    names: dict[str, str] = {}
    texts: set[str] = set()
    unplaced: list[str] = []
    for path in _visible(root):
        folder = MOODLE.match(path.name) if path.is_dir() and not path.is_symlink() else None
        single = MOODLE_FILE.match(path.name) if folder is None and _regular(path) else None
        match = folder or single
        if match is None:
            unplaced.append(from_os(path.name))
            continue
        names.setdefault(match["id"], from_os(match["name"]))
        if match["kind"] == "onlinetext":
            texts.add(match["id"])
        elif folder is not None:
            folders[match["id"]] = path
        else:
            loose[match["id"]].append((0, match["file"], path))
    entries = []
    for student in sorted(set(folders) | set(loose)):
        notes: list[str] = []
        unread: tuple[str, ...] = ()
        if student in loose:
            files = list(loose[student])
            if student in folders:  # both: the folder's top-level files join the loose ones
                files += [(0, p.name, p) for p in _visible(folders[student]) if _regular(p)]
            regrouped = _regroup_one(student, files, staging, "moodle", expected, failures)
            if regrouped is None:
                continue
            path, notes, unread = regrouped
        else:
            path = _unwrap(folders[student], expected)
        if student in texts:
            notes.append("an online text was submitted too; it is not graded")
        entries.append(Entry(student, path, "moodle", names[student], tuple(notes), unplaced=unread,
                             incomplete=_incomplete(path, expected)))
    for student in sorted(texts - set(folders) - set(loose)):
        unplaced.append(f"{names[student]}_{student}: an online text only (not graded; no file submitted)")
    return entries, unplaced


def _canvas(root: Path, staging: Path, expected, failures: dict[str, str] | None = None
            ) -> tuple[list[Entry], list[str]]:
    files: dict[str, list[tuple[int, str, Path]]] = defaultdict(list)
    names: dict[str, str] = {}
    late: set[str] = set()
    unplaced: list[str] = []
    for path in _visible(root):
        match = CANVAS.match(path.name)
        if match is None or not _regular(path):
            unplaced.append(from_os(path.name))
            continue
        files[match["id"]].append((int(match["attempt"]), match["file"], path))
        names[match["id"]] = from_os(match["name"])
        if match["late"]:
            late.add(match["id"])
    entries = []
    for student, handed_in in sorted(files.items()):
        regrouped = _regroup_one(student, handed_in, staging, "canvas", expected, failures)
        if regrouped is None:
            continue
        path, notes, unread = regrouped
        entries.append(Entry(student, path, "canvas", names[student], tuple(notes), late_marker=student in late,
                             unplaced=unread, incomplete=_incomplete(path, expected)))
    return entries, unplaced


def _repositories(root: Path) -> list[Entry]:
    folders = [p for p in _visible(root) if p.is_dir() and (p / ".git").exists()]
    prefix = os.path.commonprefix([p.name for p in folders]) if len(folders) > 1 else ""
    prefix = prefix[:prefix.rfind("-") + 1] if "-" in prefix else ""
    return [Entry(p.name[len(prefix):] or p.name, p, "repository") for p in folders]


def _plain(root: Path, expected) -> list[Entry]:
    return [Entry(p.stem if p.is_file() else p.name, _unwrap(p, expected), "folder")
            for p in _visible(root) if _is_submission(p)]


def discover_download(root: Path, staging: Path, expected: tuple[str, ...],
                      failures: dict[str, str] | None = None) -> Discovery:
    """The students in ``root`` (an extracted folder), sorted by id, and what belongs to none of them.

    Canvas files and Moodle loose files are regrouped in ``staging``, one folder per student. Two submissions
    for one id, or files of one student that cannot be copied, raise; or, given ``failures``, become that
    student's entry there (why, one sentence), and the student is left out of the list: the rest of the class
    is graded.
    """
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder or a .zip of submissions")
    unplaced: list[str] = []
    visible = _visible(root)
    if (root / "submission_metadata.yml").is_file():
        layout, entries = "gradescope", _gradescope(root, expected)
    elif any(MOODLE.match(p.name) or MOODLE_FILE.match(p.name) for p in visible):
        layout, (entries, unplaced) = "moodle", _moodle(root, staging, expected, failures)
    elif any(CANVAS.match(p.name) and p.is_file() for p in visible):
        layout, (entries, unplaced) = "canvas", _canvas(root, staging, expected, failures)
    elif any((p / ".git").exists() for p in visible if p.is_dir()):
        layout, entries = "repository", _repositories(root)
    else:
        layout, entries = "folder", _plain(root, expected)
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
            if failures is None:
                raise UsageError(why)
            clashes.setdefault(entry.student, why)
        seen[entry.student] = entry
    if failures is not None:
        failures.update(clashes)
    kept = sorted((e for e in entries if e.student not in clashes), key=lambda e: e.student)
    return Discovery(layout, kept, tuple(from_os(u) for u in unplaced))


def discover(root: Path, staging: Path, expected: tuple[str, ...],
             failures: dict[str, str] | None = None) -> list[Entry]:
    """The students in ``root`` (an extracted folder), sorted by id; Canvas files are regrouped in ``staging``."""
    return discover_download(root, staging, expected, failures).entries


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
