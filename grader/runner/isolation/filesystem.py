"""The session's root file system: an allowlist built on a fresh tmpfs, then pivot_root into it.

Modelled on bubblewrap: everything the session sees is either a read-only bind of
something the interpreter needs, mounted at its host path so that the already
initialised interpreter keeps working, or a fresh, size-capped tmpfs:

- the Python prefix's standard library (its own site-packages covered by an empty folder)
  and, from the interpreter's site-packages, only the folders of the packages the
  session's assignment declares and of what they need (``isolation.packages``: numpy and
  numpy.libs, torch and its requirements...), never the whole site-packages (a
  non-editable install puts ``grader`` and ``reference`` there);
- the system's shared libraries and programs (/usr/lib, /usr/bin...), /etc/ld.so.cache;
- the assignment's driver file (read-only, at its host path: it is loaded by path);
- ``/scratch`` (the submission's copy; the session's only writable folder besides
  ``/tmp`` and ``/dev/shm``), a fresh ``/proc`` of the session's PID namespace, and a
  minimal ``/dev`` (null, zero, full, random, urandom).

No checkout, no .git, no home folders, no grader data, no other session, no /sys.
Intermediate folders are created 0755 in the tmpfs, so an unprivileged uid can reach
the interpreter even when it lives under a 0700 home folder on the host.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import stat
import sys

from . import packages, syscalls

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
# statvfs f_flag bits -> mount flags: a bind remount must keep the flags the kernel locked on the source.
_LOCKED = ((1, MS_RDONLY), (2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC), (1024, MS_NOATIME),
           (2048, MS_NODIRATIME), (4096, MS_RELATIME))

SCRATCH = "/scratch"
# A session's writable folders are tmpfs, whose pages the kernel charges to the session's memory cgroup (they
# count against its cap with the processes). Their sizes are fractions of that cap, so that full folders still
# leave the processes most of it: /scratch and /tmp an eighth each, /dev/shm a sixteenth (1 GiB: 128 + 128 + 64).
FOLDER_SHARES = ((SCRATCH, 8), ("/tmp", 8), ("/dev/shm", 16))
DEFAULT_SESSION_MB = 1024
# Where a fresh folder is built before it replaces a used one (``renew_folders``): an empty, root-owned
# folder of the session's read-only root, never writable by the session.
STAGING = "/.next"
SYSTEM_PATHS = ("/usr/lib", "/usr/lib64", "/usr/lib32", "/usr/libexec", "/usr/bin", "/usr/share/zoneinfo",
                "/lib", "/lib64", "/bin", "/etc/ld.so.cache", "/etc/localtime")
DEVICES = ("null", "zero", "full", "random", "urandom")
class Plan:
    """What sessions may read, computed once in the zygote after its imports: ``base`` (the standard library,
    the system's libraries) for every session, and the third-party packages per assignment (``session``).
    ``loaded``: the third-party top-level modules in the zygote's sys.modules. (A plain class: the zygote
    does not otherwise import dataclasses.)"""

    __slots__ = ("base", "closures", "loaded")

    def __init__(self, base: tuple[str, ...], closures: packages.Closures, loaded: frozenset[str]):
        self.base, self.closures, self.loaded = base, closures, loaded

    def session(self, names) -> tuple[list[str], list[str]]:
        """The host paths a session whose assignment declares the packages ``names`` may read, and the
        modules of the zygote it must forget (loaded, but neither declared nor needed by a declared one)."""
        paths, allowed = self.closures.for_packages(names)
        return sorted({*self.base, *paths}), sorted(self.loaded - allowed)


def plan(extra: tuple[str, ...] = ()) -> Plan:
    """The host paths a session may read, computed once in the zygote after its imports."""
    paths = {os.path.dirname(os.__file__)}  # the standard library (with lib-dynload)
    libdir = os.path.join(sys.base_prefix, "lib")
    try:
        paths.update(os.path.join(libdir, n) for n in os.listdir(libdir) if n.startswith("libpython"))
    except OSError:
        pass
    stdlib = os.path.dirname(os.__file__)
    own = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the worker's folder: never shown
    roots = [p for p in sys.path if p and os.path.isdir(p) and not p.startswith(stdlib) and os.path.abspath(p) != own]
    loaded = set()
    for name, module in list(sys.modules.items()):
        filename = getattr(module, "__file__", None)
        if isinstance(filename, str) and any(filename.startswith(root.rstrip("/") + "/") for root in roots):
            loaded.add(name.split(".")[0])
    paths.update(p for p in SYSTEM_PATHS if os.path.lexists(p))
    paths.update(extra)
    return Plan(tuple(sorted(paths)), packages.Closures(roots, _is_grader), frozenset(loaded))


def _is_grader(name: str) -> bool:
    return name.split(".")[0] in ("grader", "reference", "__editable__") or name.startswith("__editable__")


def site_folders() -> list[str]:
    """Folders under the standard library that hold third-party packages: covered, never shown whole."""
    stdlib = os.path.dirname(os.__file__)
    return [os.path.join(stdlib, n) for n in ("site-packages", "dist-packages")
            if os.path.isdir(os.path.join(stdlib, n))]


def _mount(source, target: str, fstype, flags: int, data) -> None:
    c = syscalls.libc()
    enc = lambda v: v.encode() if isinstance(v, str) else v
    syscalls.check(c.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
                   f"mount {target}")


def _makedirs(path: str) -> None:
    if not os.path.isdir(path):
        _makedirs(os.path.dirname(path))
        os.mkdir(path, 0o755)
        os.chmod(path, 0o755)


def _bind_read_only(source: str, target: str) -> None:
    if os.path.islink(source) and os.path.dirname(source) == "/":
        _makedirs(os.path.dirname(target))
        os.symlink(os.readlink(source), target)  # merged /usr: /lib -> usr/lib
        return
    if os.path.isdir(source):
        _makedirs(target)
    else:
        _makedirs(os.path.dirname(target))
        if not os.path.exists(target):
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
    _mount(source, target, None, MS_BIND | MS_REC, None)
    locked = os.statvfs(target).f_flag
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
    flags |= sum(ms for st, ms in _LOCKED if locked & st)
    _mount(None, target, None, flags, None)


def folder_sizes(session_mb: int | None) -> dict[str, int]:
    """MiB of each writable folder of a session whose whole cap is ``session_mb`` (default where None)."""
    session_mb = int(session_mb or DEFAULT_SESSION_MB)
    return {folder: max(16, session_mb // share) for folder, share in FOLDER_SHARES}


def _tmpfs(target: str, size_mb: int, mode: int, owner: int | None = None, flags: int = MS_NOSUID | MS_NODEV) -> None:
    _makedirs(target)
    data = f"size={size_mb}m,mode={mode:o}" + (f",uid={owner},gid={owner}" if owner is not None else "")
    _mount("tmpfs", target, "tmpfs", flags, data)


def build_root(new_root: str, binds: list[str], covers: list[str], files: dict[str, str], owner: int | None,
               mount_proc: bool = True, sizes: dict[str, int] | None = None) -> dict[str, bool]:
    """Build the root under ``new_root`` (an empty folder) in the caller's own mount namespace,
    copy ``files`` (name -> host path) into its scratch and pivot into it. Raises OSError if the
    essential part fails; returns which optional parts held (``proc``). ``sizes``: MiB of each
    writable folder (``folder_sizes``)."""
    sizes = sizes or folder_sizes(None)
    syscalls.check(syscalls.libc().mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None),
                   "make / private")
    _mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    # /tmp first: a virtual environment (or the driver) installed under the host's /tmp is bound into it,
    # not hidden by it.
    _tmpfs(new_root + "/tmp", sizes["/tmp"], 0o1777)
    for path in binds:
        _bind_read_only(path, new_root + path)
    for path in covers:  # site-packages of the base interpreter: possibly grader and reference installed
        if os.path.isdir(new_root + path):
            _mount("tmpfs", new_root + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=755")
    _tmpfs(new_root + SCRATCH, sizes[SCRATCH], 0o755, owner)
    _tmpfs(new_root + "/dev", 1, 0o755, flags=MS_NOSUID)
    for name in DEVICES:
        _bind_read_only_device(f"/dev/{name}", f"{new_root}/dev/{name}")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{new_root}/dev/{name}")
    _tmpfs(new_root + "/dev/shm", sizes["/dev/shm"], 0o1777)
    copy_submission(files, new_root + SCRATCH, owner)
    os.mkdir(new_root + STAGING, 0o700)
    held = {"proc": False}
    _makedirs(new_root + "/proc")
    if mount_proc:
        try:
            _mount("proc", new_root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
            held["proc"] = True
        except OSError:
            pass  # in a user namespace inside a container whose /proc is partly masked: no /proc at all
    _mount(None, new_root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    os.chdir(new_root)
    c = syscalls.libc()
    syscalls.check(c.syscall(syscalls.SYS_PIVOT_ROOT, b".", b"."), "pivot_root")
    syscalls.check(c.umount2(b".", MNT_DETACH), "detach the old root")
    os.chdir("/")
    return held


def renew_folders(binds: list[str], contents: dict[str, bytes], owner: int | None, sizes: dict[str, int]) -> None:
    """Replace each writable folder of a built root (this process must be in its mount namespace, with the
    capabilities that built it) by a fresh tmpfs, exactly as ``build_root`` made it: ``/scratch`` holding
    ``contents`` (name -> bytes) owned by ``owner``, ``/tmp`` holding the read-only binds under it,
    ``/dev/shm`` empty. Whatever the last user left (modes, attributes, ACLs, deep trees, FIFOs, sockets)
    goes with the old mount, which is detached whole; its pages are freed once nothing holds it open.

    Each new folder is built on ``STAGING`` and then moved over the old one, so the binds under ``/tmp`` can
    be taken from the old folder before it is detached. Raises OSError if any step fails."""
    for folder, mode, who in (("/tmp", 0o1777, None), (SCRATCH, 0o755, owner), ("/dev/shm", 0o1777, None)):
        _tmpfs(STAGING, sizes[folder], mode, who)
        try:
            for path in binds:
                if path.startswith(folder + "/"):
                    _bind_read_only(path, STAGING + path[len(folder):])
            if folder == SCRATCH:
                write_submission(contents, STAGING, owner)
        except OSError:
            syscalls.libc().umount2(STAGING.encode(), MNT_DETACH)
            raise
        syscalls.check(syscalls.libc().umount2(folder.encode(), MNT_DETACH), f"detach {folder}")
        _mount(STAGING, folder, None, MS_MOVE, None)


def read_submission(files: dict[str, str]) -> dict[str, bytes]:
    """The bytes of each staged file, read as ``copy_submission`` copies them (no links, regular files only)."""
    contents = {}
    for name, source in files.items():
        if "/" in name or name in ("", ".", ".."):
            continue
        try:
            fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                with open(fd, "rb", closefd=False) as f:
                    contents[name] = f.read()
        finally:
            os.close(fd)
    return contents


def write_submission(contents: dict[str, bytes], scratch: str, owner: int | None) -> None:
    for name, data in contents.items():
        target = os.path.join(scratch, name)
        with open(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644), "wb") as f:
            f.write(data)
        if owner is not None:
            os.chown(target, owner, owner)


def _bind_read_only_device(source: str, target: str) -> None:
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
    _mount(source, target, None, MS_BIND, None)
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC, None)


def copy_submission(files: dict[str, str], scratch: str, owner: int | None) -> None:
    """Copy the staged files in without following links and without blocking on a FIFO."""
    for name, source in files.items():
        if "/" in name or name in ("", ".", ".."):
            continue
        try:
            fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue  # a link (or gone): the session simply does not have that file
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            target = os.path.join(scratch, name)
            out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with open(fd, "rb", closefd=False) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
            if owner is not None:
                os.chown(target, owner, owner)
        finally:
            os.close(fd)


def read_only_host_root(scratch: str, hide: list[str]) -> bool:
    """Fallback when the allowlist root cannot be built: the host's / read-only except the
    scratch folder, with the folders in ``hide`` (the reference solutions) covered."""
    try:
        syscalls.check(syscalls.libc().mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None),
                       "make / private")
        _mount(scratch, scratch, None, MS_BIND, None)
        _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
        for extra in ("/dev/shm", "/tmp"):
            if os.path.ismount(extra):
                try:
                    _mount(None, extra, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
                except OSError:
                    pass
        for folder in hide:
            if os.path.isdir(folder):
                _mount("none", folder, "tmpfs", MS_RDONLY, "size=4k")
    except OSError:
        return False
    return True


def remove_tree(path: str, force: bool = False) -> None:
    """Remove a folder tree without recursion and without long paths (a 3000-deep tree must neither
    overflow the stack nor exceed PATH_MAX), never following links; whatever cannot go is left.

    ``force``: first give each folder of the tree mode 0700, so that its owner removes what was made
    unreadable or unwritable (mode 000, ``chmod -R a-w``). Only where nothing else can change the tree
    meanwhile (every process that could is dead), since a mode is set by name."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    if force and stat.S_ISDIR(_lstat_mode(path)):
        _chmod(path, 0o700)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    depth, failed = 0, set()
    try:
        while True:
            descended = False
            with os.scandir(fd) as entries:
                listing = [(e.name, e.is_dir(follow_symlinks=False), e.inode()) for e in entries]
            for name, is_dir, inode in listing:
                if inode in failed:
                    continue
                try:
                    if not is_dir:
                        os.unlink(name, dir_fd=fd)
                        continue
                    try:
                        os.rmdir(name, dir_fd=fd)
                        continue
                    except OSError:
                        if force:
                            _chmod(name, 0o700, dir_fd=fd)
                        child = os.open(name, flags, dir_fd=fd)
                except OSError:
                    failed.add(inode)
                    continue
                os.close(fd)
                fd, depth, descended = child, depth + 1, True
                break
            if descended:
                continue
            if any(inode not in failed for _, _, inode in listing):
                continue  # something was removed this round; look again
            if listing:
                failed.add(os.fstat(fd).st_ino)
            if depth == 0:
                break
            parent = os.open("..", flags, dir_fd=fd)
            os.close(fd)
            fd, depth = parent, depth - 1
    finally:
        os.close(fd)
    try:
        os.rmdir(path)
    except OSError:
        pass


def _lstat_mode(path: str) -> int:
    try:
        return os.lstat(path).st_mode
    except OSError:
        return 0


def _chmod(path: str, mode: int, dir_fd: int | None = None) -> None:
    try:
        os.chmod(path, mode, dir_fd=dir_fd)
    except OSError:
        pass
