"""Which third-party packages a session's root shows: its assignment's, with what they need, and nothing else.

An assignment declares the packages its submissions may import beyond the standard library
(``Assignment.packages``, else its ``preload``). A session's root binds, from the interpreter's
site-packages, the top-level entries (folders, modules, ``NAME.libs``) of the *closure* of those names:

- the distribution that provides each name, and every entry that distribution installs at the top level
  (torch ships ``functorch`` and ``torchgen`` too; NumPy ships ``numpy.libs``);
- the distributions it requires (``importlib.metadata``'s ``Requires-Dist``), transitively: those an
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

import importlib.metadata
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
    """The packages of the interpreter's ``roots`` (its site-packages folders) and what each needs."""

    def __init__(self, roots: list[str], hidden=lambda entry: False):
        self.roots = roots
        self.hidden = hidden  # entries never shown (the grader's own, an editable install's finder)
        self._dists: dict[str, importlib.metadata.Distribution | None] = {}
        self._by_module: dict[str, list[str]] | None = None
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
            dist_name = pending.pop()
            if dist_name in done:
                continue
            done.add(dist_name)
            dist = self._dist(dist_name)
            if dist is None:
                continue  # required but not installed: another platform's, or optional
            entries.update(self._entries(dist))
            for requirement in dist.requires or ():
                target, _, marker = requirement.partition(";")
                match = _NAME.match(target.strip())
                if match and "extra" not in marker:
                    pending.append(normalize(match.group()))
        for other in (*COMPANIONS.get(name, ()), *LOADED_WITH.get(name, ())):
            if other != name and self._is_third_party(other):
                self._add(other, entries, seen)

    def _dist(self, name: str) -> importlib.metadata.Distribution | None:
        if name not in self._dists:
            try:
                found = list(importlib.metadata.distributions(name=name, path=self.roots))
            except Exception:  # noqa: BLE001 - broken metadata: treated as not installed
                found = []
            self._dists[name] = found[0] if found else None
        return self._dists[name]

    def _providers(self, module: str) -> list[str]:
        """The distributions that install the top-level ``module``: the one named like it, else the ones
        whose ``top_level.txt`` or ``RECORD`` lists it (read only when the name alone does not tell)."""
        if self._dist(normalize(module)) is not None and module in {
                module_name(e) for _, e in self._entries(self._dist(normalize(module)))}:
            return [normalize(module)]
        if self._by_module is None:
            self._by_module = {}
            for dist in importlib.metadata.distributions(path=self.roots):
                dist_name = normalize(dist.metadata["Name"] or "")
                self._dists.setdefault(dist_name, dist)
                for _, entry in self._entries(dist):
                    self._by_module.setdefault(module_name(entry), []).append(dist_name)
        return self._by_module.get(module, [])

    def _entries(self, dist: importlib.metadata.Distribution) -> set[tuple[str, str]]:
        """(site-packages folder, top-level entry) for each thing ``dist`` installs there."""
        root = str(dist.locate_file(""))
        text = dist.read_text("RECORD") or ""
        names = {line.split(",")[0].split("/")[0] for line in text.splitlines() if line.strip()}
        if not names:
            names = {line.strip() for line in (dist.read_text("top_level.txt") or "").splitlines()}
        entries = set()
        for entry in names:
            if not entry or entry.startswith("..") or entry.endswith((".dist-info", ".egg-info", ".pth")):
                continue
            if entry == "__pycache__" or not os.path.lexists(os.path.join(root, entry)):
                continue
            entries.add((root, entry))
        return entries

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

    def _is_third_party(self, module: str) -> bool:
        return module not in sys.stdlib_module_names and module not in sys.builtin_module_names
