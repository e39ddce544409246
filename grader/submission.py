"""Read a submission (folder, .zip or .ipynb) into a private staging folder.

The parent reads student-supplied files here, so everything is bounded and
nothing is trusted: only regular files and folders (a FIFO, device or socket is
refused before it is opened, so nothing can hang), files are opened with
``O_NOFOLLOW | O_NONBLOCK`` and checked with ``fstat`` before a byte is read,
a symbolic link is followed only to a file inside the submission itself (a link
to the reference or anywhere else is refused), only the names the assignment
expects plus ``answers.toml`` are read, with a size cap per file and per
archive, and no path from an archive is ever used as a path. A damaged zip (bad
CRC, bad deflate, lying sizes, a bomb, a huge central directory) is refused in
one sentence. A folder or zip whose files sit one folder down
(``my_submission/mlp.py`` inside the zip) is accepted too.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.errors import DISK_FULL, SubmissionError, UsageError
from grader.notebook import notebook_module

ANSWERS_FILE = "answers.toml"
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ARCHIVE_BYTES = 50 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 2000
MAX_CENTRAL_DIRECTORY_BYTES = 2 * 1024 * 1024
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"))


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


def _kind(mode: int) -> str:
    return next((text for test, text in _KINDS if test(mode)), "not a regular file")


def _too_large(name: str, limit: int = MAX_FILE_BYTES) -> SubmissionError:
    return SubmissionError(f"{name} is larger than {limit >> 20} MiB")


def read_regular(path: str | Path, name: str, limit: int = MAX_FILE_BYTES, dir_fd: int | None = None) -> bytes:
    """The bytes of the regular file ``path``, read without following a link and without blocking.

    The size is checked with ``fstat`` before reading (a sparse 3 GiB file is
    refused at once) and again while reading (a file that grows). Raises
    ``SubmissionError`` for anything else: a link, a FIFO, a device, a folder.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise SubmissionError(f"{name} is a symbolic link; submit the file itself") from None
        raise SubmissionError(f"{name} cannot be read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError(f"{name} is {_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise _too_large(name, limit)
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise _too_large(name, limit)
        return b"".join(chunks)
    except OSError as exc:
        raise SubmissionError(f"{name} cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)


def _stage(data: bytes, name: str, staging: Path) -> Path:
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(name)
    target = staging / name
    target.write_bytes(data)
    return target


def _inside(root: Path, target: str) -> bool:
    return os.path.commonpath([str(root), target]) == str(root)


def _entries(folder: Path) -> dict[str, os.stat_result]:
    """Name -> lstat of each entry of ``folder`` (links are not followed)."""
    with os.scandir(folder) as listing:
        return {entry.name: entry.stat(follow_symlinks=False) for entry in listing}


def _from_folder(folder: Path, expected: tuple[str, ...], staging: Path) -> tuple[dict[str, Path], list[str]]:
    wanted, notes = _wanted(expected), []
    root = Path(os.path.realpath(folder))
    entries = _entries(root)
    here = root
    if not set(entries) & set(expected):
        candidates = [n for n, info in entries.items() if not n.startswith((".", "__"))
                      and (stat.S_ISDIR(info.st_mode) or stat.S_ISLNK(info.st_mode))]
        links = [n for n in candidates if stat.S_ISLNK(entries[n].st_mode)]
        for name in links:
            if not _inside(root, os.path.realpath(root / name)):
                raise SubmissionError(f"{name} in the submission is a symbolic link to a folder outside it; "
                                      "submit the folder itself")
        folders = [n for n in candidates if n not in links]
        if len(folders) == 1:
            here = root / folders[0]
            entries = _entries(here)
            notes.append(f"files read from the subfolder {folders[0]}/")
    files = {}
    for name in sorted(wanted & set(entries)):
        mode = entries[name].st_mode
        source = here / name
        if stat.S_ISLNK(mode):
            target = os.path.realpath(source)
            if not _inside(root, target):
                raise SubmissionError(f"{name} in the submission is a symbolic link to a file outside it; "
                                      "submit the file itself")
            source = Path(target)
            notes.append(f"{name} is a link to {os.path.relpath(target, root)} inside the submission")
        elif not stat.S_ISREG(mode):
            raise SubmissionError(f"{name} in the submission is {_kind(mode)}, not a regular file")
        files[name] = _stage(read_regular(source, name), name, staging)
    return files, notes


def _central_directory_ok(blob: bytes, name: str) -> None:
    """Refuse an archive whose end record announces absurd entry counts or sizes, before zipfile parses it."""
    at = blob.rfind(b"PK\x05\x06")
    if at < 0 or len(blob) - at < 22:
        raise SubmissionError(f"{name} is not a readable zip file (no end of central directory)")
    entries, size = struct.unpack("<xxxxxxxxxxHI", blob[at:at + 16])
    if entries == 0xFFFF or size == 0xFFFFFFFF or entries > MAX_ARCHIVE_ENTRIES:
        raise SubmissionError(f"{name} has more than {MAX_ARCHIVE_ENTRIES} entries")
    if size > MAX_CENTRAL_DIRECTORY_BYTES:
        raise SubmissionError(f"{name} has a central directory of {size} bytes, more than a submission needs")


def _from_zip(path: Path, expected: tuple[str, ...], staging: Path) -> tuple[dict[str, Path], list[str]]:
    import io

    wanted, notes = _wanted(expected), []
    blob = read_regular(path, path.name, MAX_ARCHIVE_BYTES)
    _central_directory_ok(blob[-(1 << 16) - 22:], path.name)
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob))
    except Exception as exc:  # zipfile raises many kinds on a damaged archive
        raise SubmissionError(f"{path.name} is not a readable zip file ({type(exc).__name__})") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ARCHIVE_ENTRIES:
            raise SubmissionError(f"{path.name} has more than {MAX_ARCHIVE_ENTRIES} entries")
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
            if stat.S_ISLNK(entry.external_attr >> 16):
                raise SubmissionError(f"{name} in {path.name} is a symbolic link; zip the file itself")
            if entry.flag_bits & 0x1:
                raise SubmissionError(f"{name} in {path.name} is encrypted; zip it without a password")
            try:
                with archive.open(entry) as f:
                    data = f.read(MAX_FILE_BYTES + 1)
                    if len(data) <= MAX_FILE_BYTES:
                        f.read(1)  # reaching the end makes zipfile check the CRC
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
                    RuntimeError, struct.error) as exc:
                raise SubmissionError(f"{name} in {path.name} is damaged and cannot be read "
                                      f"({type(exc).__name__}: {str(exc)[:80]})") from None
            if len(data) > MAX_FILE_BYTES:
                raise SubmissionError(f"{name} in {path.name} is larger than {MAX_FILE_BYTES >> 20} MiB")
            files[name] = _stage(data, name, staging)
            if "/" in entry.filename.strip("/"):
                notes.append(f"{name} read from {entry.filename}")
    return files, notes


def load_submission(path: str | Path, expected: tuple[str, ...], staging: Path,
                    notebook_statements: str = "definitions", importable: tuple[str, ...] | None = None
                    ) -> Submission:
    """Stage the submission at ``path``; raise ``SubmissionError`` if it cannot be read at all.

    ``path`` itself (chosen by whoever runs the grader) may be a link; what it
    names must be a folder or a regular file. Everything inside is read as
    described in the module docstring. ``path`` may also be one of the expected
    files (``mlp.py``): its folder is graded. ``notebook_statements`` is
    ``"definitions"`` (a notebook's training runs and prints are left out) or ``"all"``; ``importable``
    the packages a notebook may import (others are left out with a note; None keeps every import).
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise SubmissionError(f"no such file or folder: {path}") from None
    except (OSError, ValueError) as exc:
        raise SubmissionError(f"{path} cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
        raise SubmissionError(f"{path} is {_kind(info.st_mode)}, not a folder, a .zip or an .ipynb notebook")
    extra_notes: list[str] = []
    if stat.S_ISREG(info.st_mode) and path.name in _wanted(expected):
        extra_notes.append(f"{path.name} is one of the assignment's files: graded its folder {path.parent}/")
        path = path.parent
        info = os.stat(path)
    origins: dict[str, tuple[str, ...]] = {}
    try:
        staging.mkdir(parents=True, exist_ok=True)
        if stat.S_ISDIR(info.st_mode):
            files, notes = _from_folder(path, expected, staging)
        elif path.suffix == ".zip":
            files, notes = _from_zip(path, expected, staging)
        elif path.suffix == ".ipynb":
            files, notes, origins = _from_notebook(path, expected, staging, notebook_statements, importable)
        else:
            raise SubmissionError(f"{path} is not a folder, a .zip or an .ipynb notebook")
    except RecursionError:
        raise SubmissionError(f"{path} is nested too deeply to be read") from None
    except OSError as exc:
        if exc.errno in DISK_FULL:  # the grader's own disk, not the student's files: no grade, not a zero
            raise UsageError(f"the submission cannot be copied into {staging.parent} ({exc.strerror}): free some "
                             f"space there, or set TMPDIR to a folder that has room") from None
        raise SubmissionError(f"{path} cannot be read ({exc.strerror or exc})") from None
    return Submission(source=str(path), files=files, notes=tuple(extra_notes + notes), origins=origins,
                      seen=_names_seen(path))


def _from_notebook(path: Path, expected: tuple[str, ...], staging: Path, statements: str,
                   importable: tuple[str, ...] | None = None
                   ) -> tuple[dict[str, Path], list[str], dict[str, tuple[str, ...]]]:
    module = notebook_module(path, statements, importable)
    code = module.code.encode()
    files = {name: _stage(code, name, staging) for name in expected if name.endswith(".py")}
    notes = [f"the notebook's code cells were graded as {', '.join(sorted(files))}", *module.notes]
    answers = path.with_name(ANSWERS_FILE)
    if os.path.lexists(answers):  # read with the size checked first, never following a link
        files[ANSWERS_FILE] = _stage(read_regular(answers, ANSWERS_FILE), ANSWERS_FILE, staging)
    return files, notes, {name: module.origins for name in files if name.endswith(".py")}
