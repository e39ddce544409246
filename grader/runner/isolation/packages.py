"""Which third-party packages a session's root shows: its assignment's, with what they need, and nothing else.

An assignment declares the packages its submissions may import beyond the standard library
(``Assignment.packages``, else its ``preload``). A session's root binds, from the interpreter's
site-packages, the top-level entries (folders, modules, ``NAME.libs``) of the *closure* of those names:

- the distribution that provides each name, and every entry that distribution installs at the top level
  (torch ships ``functorch`` and ``torchgen`` too; NumPy ships ``numpy.libs``);
- the distributions it requires (their metadata's ``Requires-Dist``), transitively: those an
  extra alone asks for are left out, and those not installed (another platform's) are skipped;
- ``COMPANIONS``: what a package imports lazily without declaring it;
- the third-party modules that appeared in ``sys.modules`` while the zygote imported it
  (``record_import``): a package that imports something it does not declare still works.

``ALWAYS`` (NumPy, which the worker's own wire format imports) is in every session. The metadata
is read from each distribution's ``RECORD`` as text (milliseconds even for torch's 15 000 lines),
only for the distributions a closure reaches, once per zygote; a session's paths are then a dict
lookup. A name no distribution and no folder provides has an empty closure: the session cannot
import it (``Assignment.missing_requirements`` names it before any grading).
"""

from __future__ import annotations

import os
import re
import sys

ALWAYS = ("numpy",)
# Imported lazily (after the zygote's imports) and not all declared by their importer.
COMPANIONS = {"torch": ("sympy", "mpmath", "typing_extensions", "filelock", "fsspec", "jinja2", "markupsafe",
                        "networkx", "functorch", "torchgen")}
# Top-level modules that appeared while the zygote imported each preloaded name (``record_import``).
LOADED_WITH: dict[str, set[str]] = {}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_TOP = re.compile(r"^([^/,\r\n]+)[/,]", re.MULTILINE)


def normalize(name: str) -> str:
    """A distribution's name as PEP 503 compares them (``PyYAML`` and ``pyyaml``, ``markdown-it-py``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def record_import(name: str) -> None:
    """Import ``name`` (in the zygote), noting the top-level modules that came with it; ImportError passes."""
    before = set(sys.modules)
    try:
        __import__(name)
    except ImportError:
        return
    LOADED_WITH.setdefault(name.split(".")[0], set()).update(
        m.split(".")[0] for m in set(sys.modules) - before)


def module_name(entry: str) -> str:
    """The module a top-level entry of site-packages provides: ``yaml`` -> yaml, ``six.py`` -> six,
    ``_cffi_backend.cpython-311-x86_64-linux-gnu.so`` -> _cffi_backend (``numpy.libs`` stays as it is)."""
    for suffix in (".py", ".so", ".pyd"):
        if entry.endswith(suffix):
            return entry[: -len(suffix)].split(".")[0]
    return entry


class Closures:
    """The packages of the interpreter's ``roots`` (its site-packages folders) and what each needs.

    The metadata is read straight from each ``NAME-VERSION.dist-info`` folder (``METADATA``'s ``Requires-Dist``
    lines, ``RECORD``'s first path components), as ``importlib.metadata`` would, without importing it (its
    e-mail parser costs the zygote's start-up tens of milliseconds)."""

    def __init__(self, roots: list[str], hidden=lambda entry: False):
        self.roots = roots
        self.hidden = hidden  # entries never shown (the grader's own, an editable install's finder)
        self._infos: dict[str, tuple[str, str]] | None = None  # distribution -> (its root, its .dist-info folder)
        self._by_module: dict[str, list[str]] | None = None
        self._entries_of: dict[str, set[tuple[str, str]]] = {}
        self._cache: dict[tuple[str, ...], tuple[list[str], frozenset[str]]] = {}

    def for_packages(self, names) -> tuple[list[str], frozenset[str]]:
        """The host paths to bind and the top-level module names a session may import, for the declared
        ``names`` (plus ``ALWAYS``); cached, so each later session with the same names is a dict lookup."""
        key = tuple(sorted({n.split(".")[0] for n in [*ALWAYS, *names] if n}))
        if key not in self._cache:
            entries: set[tuple[str, str]] = set()
            seen: set[str] = set()
            for name in key:
                self._add(name, entries, seen)
            paths = sorted(os.path.join(root, entry) for root, entry in entries if not self.hidden(entry))
            self._cache[key] = (paths, frozenset(module_name(e) for _, e in entries) | set(key))
        return self._cache[key]

    def _add(self, name: str, entries: set[tuple[str, str]], seen: set[str]) -> None:
        if name in seen:
            return
        seen.add(name)
        dists = self._providers(name)
        if not dists:
            entries.update(self._scan(name))
        pending = list(dists)
        done: set[str] = set()
        while pending:
            dist = pending.pop()
            if dist in done or dist not in self._dists():
                continue  # done, or required but not installed: another platform's, or optional
            done.add(dist)
            entries.update(self._entries(dist))
            for requirement in self._requires(dist):
                target, _, marker = requirement.partition(";")
                match = _NAME.match(target.strip())
                if match and "extra" not in marker:
                    pending.append(normalize(match.group()))
        loaded = [m for m in LOADED_WITH.get(name, ()) if self._from_roots(m)]
        for other in (*COMPANIONS.get(name, ()), *loaded):
            if other not in {module_name(e) for _, e in entries}:  # else its distribution was walked already
                self._add(other, entries, seen)

    def _dists(self) -> dict[str, tuple[str, str]]:
        if self._infos is None:
            self._infos = {}
            for root in self.roots:
                try:
                    listing = sorted(os.listdir(root))
                except OSError:
                    continue
                for entry in listing:
                    if entry.endswith((".dist-info", ".egg-info")):
                        dist = normalize(entry.rsplit(".", 1)[0].split("-")[0])
                        self._infos.setdefault(dist, (root, os.path.join(root, entry)))
        return self._infos

    def _read(self, dist: str, name: str) -> str:
        try:
            with open(os.path.join(self._dists()[dist][1], name), encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _requires(self, dist: str) -> list[str]:
        headers = self._read(dist, "METADATA").split("\n\n", 1)[0]
        return [line.split(":", 1)[1].strip() for line in headers.splitlines()
                if line.lower().startswith("requires-dist:")]

    def _providers(self, module: str) -> list[str]:
        """The distributions that install the top-level ``module``: the one named like it, else the ones
        whose ``RECORD`` (or ``top_level.txt``) lists it (read only when the name alone does not tell)."""
        dist = normalize(module)
        if dist in self._dists() and module in {module_name(e) for _, e in self._entries(dist)}:
            return [dist]
        if self._by_module is None:
            self._by_module = {}
            for other in self._dists():
                for _, entry in self._entries(other):
                    self._by_module.setdefault(module_name(entry), []).append(other)
        return self._by_module.get(module, [])

    def _entries(self, dist: str) -> set[tuple[str, str]]:
        """(site-packages folder, top-level entry) for each thing ``dist`` installs there."""
        if dist not in self._entries_of:
            root = self._dists()[dist][0]
            text = self._read(dist, "RECORD")
            names = set(_TOP.findall(text))  # each line's first path component (torch: 15 000 lines)
            if not names:
                names = {line.strip() for line in self._read(dist, "top_level.txt").splitlines()}
            entries = set()
            for entry in names:
                if not entry or entry.startswith("..") or entry.endswith((".dist-info", ".egg-info", ".pth")):
                    continue
                if entry == "__pycache__" or not os.path.lexists(os.path.join(root, entry)):
                    continue
                entries.add((root, entry))
            self._entries_of[dist] = entries
        return self._entries_of[dist]

    def _scan(self, name: str) -> set[tuple[str, str]]:
        """A module without metadata: its folder or file (and ``NAME.libs``) on the roots."""
        found = set()
        for root in self.roots:
            try:
                listing = os.listdir(root)
            except OSError:
                continue
            for entry in listing:
                if entry == name or entry == f"{name}.libs" or (module_name(entry) == name and "." in entry):
                    found.add((root, entry))
        return found

    def _from_roots(self, module: str) -> bool:
        """Whether the loaded top-level ``module`` came from site-packages (not the standard library, not a
        name like ``__mp_main__`` or Cython's runtime, which have no file there)."""
        filename = getattr(sys.modules.get(module), "__file__", None)
        return isinstance(filename, str) and any(filename.startswith(root.rstrip("/") + "/") for root in self.roots)
