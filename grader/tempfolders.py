"""Private temporary folders that outlive no one: a later run removes those whose owner was killed.

dlgrade stages submissions (students' files) in folders under the system's temporary folder and removes
them when it is done. A process killed with SIGKILL, or by the kernel when memory runs out, cannot: its
folders stay behind. So each folder is locked (``flock`` on the folder itself) for as long as its owner
holds it open; the kernel releases the lock when the owner dies, however it dies. ``remove_abandoned``,
called as ``dlgrade check`` and ``dlgrade grade`` start, removes this user's folders of these kinds whose
lock it can take: their owner is gone. A folder younger than a minute is left alone, since its owner may not
have locked it yet, and so is everything on a network file system, where another machine's lock may not show.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from pathlib import Path

from grader.errors import UsageError
from grader.runner.isolation.filesystem import remove_tree

# The kinds of folder made here, the only ones ``remove_abandoned`` touches (other dlgrade- folders, such as a
# doctor's or a student build's, are not locked, so an unlocked one could be in use).
KINDS = ("dlgrade-class-", "dlgrade-submission-", "dlgrade-zygote-")
GRACE_S = 60.0  # between creating a folder and locking it, it is not yet anyone's
# File systems whose locks are this machine's own. On a network one (NFS mounted without its lock manager, a
# cluster's shared scratch) another machine's lock may be invisible here, so nothing there is ever removed.
LOCAL_FILE_SYSTEMS = {"tmpfs", "ext2", "ext3", "ext4", "xfs", "btrfs", "overlay", "zfs", "f2fs", "ramfs"}


class TempFolder:
    """A new private folder (mode 0700) locked by this process until ``remove``."""

    def __init__(self, prefix: str, dir: str | Path | None = None):
        if prefix not in KINDS:
            raise ValueError(f"not a kind of folder that remove_abandoned knows: {prefix!r}")
        try:
            self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=dir))
        except OSError as exc:  # the grader's disk (full, read-only): said plainly, never a student's zero
            where = dir or tempfile.gettempdir()
            raise UsageError(f"cannot make a temporary folder in {where} ({exc.strerror or exc}): free some space "
                             f"there, or set TMPDIR to a writable folder that has room") from None
        self._fd: int | None = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # no locks here (some network file systems): never removed by another run then
            pass

    def remove(self) -> None:
        """Remove the folder and everything in it (a student's 3000-deep tree included); safe to call twice,
        and from a signal handler (no lock taken)."""
        remove_tree(str(self.path))
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc) -> None:
        self.remove()


def remove_abandoned(folder: str | Path | None = None, grace_s: float = GRACE_S) -> list[str]:
    """Remove the dlgrade folders in ``folder`` (default: the temporary folder) that belong to this user,
    are older than ``grace_s`` and are locked by no one; return their names. Never raises."""
    removed = []
    folder = os.path.realpath(folder or tempfile.gettempdir())
    if file_system(folder) not in LOCAL_FILE_SYSTEMS:
        return removed
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not entry.name.startswith(KINDS):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            fd = os.open(entry.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            if info.st_uid != os.getuid() or now - info.st_mtime < grace_s:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises while its owner lives
        except OSError:
            continue
        else:
            remove_tree(entry.path)
            removed.append(entry.name)
        finally:
            os.close(fd)
    return removed


def file_system(path: str) -> str:
    """The type of the file system ``path`` is on (``ext4``, ``nfs4``...), from the deepest mount point above it
    in ``/proc/self/mounts``; "" where that cannot be read."""
    best, kind = "", ""
    try:
        with open("/proc/self/mounts") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) < 3:
                    continue
                point = fields[1].replace("\\040", " ")
                inside = path == point or path.startswith(point.rstrip("/") + "/")
                if inside and len(point) >= len(best):
                    best, kind = point, fields[2]
    except OSError:
        return ""
    return kind
