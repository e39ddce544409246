"""A course's own assignments in the student build: found, staged without their reference or key, checked.

``grader.packaging.build`` calls these for every assignment that is not a built-in:

- ``course_packages``: the top-level packages the requested course assignments live in;
- ``stage``: copies each package into the build, leaving out its reference package, its
  ``answer_key`` modules and its declared mistakes, moves its template to ``student_template/<id>``
  (where the built-ins' starter files are), fingerprints the model answers of its ``GradientQuestion``\\ s (as the
  built-in a2's are), and registers its entry point and files in the staged ``pyproject.toml``;
- ``leaks``: the wheel's lines that are lines of a course's reference, or its model answers
  (the student build refuses to leave such a wheel).
"""

from __future__ import annotations

import ast
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from grader.assignment import ENTRY_POINT_GROUP, Assignment
from grader.authoring.markers import derive_files, student_files
from grader.errors import InternalError, UsageError

SKIPPED = ("__pycache__", ".pytest_cache", ".git", ".mypy_cache", ".ruff_cache")
MIN_LINE = 12  # shorter reference lines (``return x``) say nothing


@dataclass
class CoursePackage:
    """A course's top-level package and the assignments of the build that live in it."""

    top: str
    folder: Path
    assignments: list[Assignment] = field(default_factory=list)

    @property
    def withheld(self) -> list[Path]:
        """Folders and files of the package the student build leaves out: references, answer keys, and the
        declared mistakes (wrong submissions that share the reference's correct lines)."""
        out = []
        for a in self.assignments:
            folder = a.package_folder
            out += [folder / m.folder for m in a.mistakes if folder is not None and (folder / m.folder).exists()]
            for module in (a.reference_package, *a.answer_key_modules):
                if module.split(".")[0] != self.top:
                    continue
                path = self.folder.joinpath(*module.split(".")[1:])
                out += [p for p in (path, path.with_suffix(".py")) if p.exists()]
        return out


def course_packages(assignments: list[Assignment]) -> list[CoursePackage]:
    """The packages of the course (non built-in) assignments among ``assignments``."""
    found: dict[str, CoursePackage] = {}
    for a in assignments:
        if a.builtin:
            continue
        top = a.package.split(".")[0]
        folder = a.package_folder
        if folder is None:
            raise UsageError(f"{a.id}: its package {a.package!r} is not installed here.")
        folder = folder.parents[len(a.package.split(".")) - 2] if "." in a.package else folder
        found.setdefault(top, CoursePackage(top, folder)).assignments.append(a)
    return list(found.values())


def search_path(courses: list[CoursePackage]) -> list[str]:
    """The folders a child process needs on its path to import the courses' packages."""
    return list(dict.fromkeys(str(c.folder.parent) for c in courses))


def _entry_points(course: CoursePackage) -> dict[str, str]:
    ids = {a.id for a in course.assignments}
    points = {e.name: e.value for e in metadata.entry_points(group=ENTRY_POINT_GROUP) if e.name in ids}
    missing = sorted(ids - set(points))
    if missing:
        raise UsageError(f"{', '.join(missing)}: not registered through the {ENTRY_POINT_GROUP!r} entry point; "
                         "install the course's package (pip install -e FOLDER) before building.")
    return points


def stage(stage_root: Path, courses: list[CoursePackage]) -> dict[str, list[str]]:
    """Copy each course's package into ``stage_root`` without its reference and keys; return per package
    the model answers taken out. Edits the staged ``pyproject.toml`` to ship and register them."""
    removed: dict[str, list[str]] = {}
    pyproject = stage_root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    for course in courses:
        withheld = {p.resolve() for p in course.withheld}
        target = stage_root / course.top

        def ignore(folder: str, names: list[str], withheld=withheld) -> set[str]:
            return {n for n in names if n in SKIPPED or n.endswith(".pyc") or (Path(folder) / n).resolve() in withheld}

        shutil.copytree(course.folder, target, ignore=ignore)
        for a in course.assignments:  # the starter files travel where the built-ins' do: student_template/<id>
            template = a.template_folder
            if template is not None and template.is_relative_to(course.folder):
                staged = target / template.relative_to(course.folder)
                shutil.rmtree(stage_root / "student_template" / a.id, ignore_errors=True)
                shutil.copytree(staged, stage_root / "student_template" / a.id, ignore=ignore)
                shutil.rmtree(staged)
            # Derived from the reference's solution markers, whatever the template folder on disk holds.
            if a.reference_folder is not None:
                out = stage_root / "student_template" / a.id
                for name, derived in derive_files(a.reference_folder, template, student_files(a)).items():
                    out.mkdir(parents=True, exist_ok=True)
                    (out / name).write_text(derived, encoding="utf-8")
        removed[course.top] = _fingerprint_answers(target, course)
        points = _entry_points(course)
        text = _register(text, course.top, points)
    pyproject.write_text(text, encoding="utf-8")
    return removed


def _register(text: str, top: str, points: dict[str, str]) -> str:
    include = re.search(r'(?m)^include = \[(.*)\]$', text)
    group = f'[project.entry-points."{ENTRY_POINT_GROUP}"]'
    data = re.search(r"(?m)^\[tool\.setuptools\.package-data\]$", text)
    if include is None or group not in text or data is None:
        raise InternalError("pyproject.toml no longer has the tables the student build adds a course's package to")
    text = text[:include.end(1)] + f', "{top}", "{top}.*"' + text[include.end(1):]
    lines = "".join(f'"{name}" = "{value}"\n' for name, value in points.items())
    text = text.replace(group + "\n", group + "\n" + lines, 1)
    data = re.search(r"(?m)^\[tool\.setuptools\.package-data\]\n", text)
    return text[:data.end()] + f'{top} = ["*", "**/*"]\n' + text[data.end():]


def _questions(course: CoursePackage):
    from grader.checks.symbolic import GradientQuestion

    for a in course.assignments:
        a.load_checks()
    seen = []
    for name, module in list(sys.modules.items()):
        if name == course.top or name.startswith(course.top + "."):
            for value in list(vars(module).values()):
                if isinstance(value, GradientQuestion) and value not in seen:
                    seen.append(value)
    return seen


def _fingerprint_answers(target: Path, course: CoursePackage) -> list[str]:
    """Replace every model answer of the package's questions by its fingerprint (what the student build's
    judge compares with), and cut it out of any other string that quotes it."""
    from grader.checks import expressions as ex
    from grader.checks.symbolic import fingerprint
    from grader.packaging.redact import fingerprint_answers

    answers = {q.answer: fingerprint(ex.render(q.parse(q.answer))) for q in _questions(course)}
    if not answers:
        return []
    for path in target.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if any(answer in source for answer in answers):
            path.write_text(ast.unparse(fingerprint_answers(ast.parse(source), answers)) + "\n", encoding="utf-8")
    return sorted(answers)


def _squeeze(line: str) -> str:
    return re.sub(r"\s+", "", line.split("#")[0])


def leaks(wheel: Path, courses: list[CoursePackage], answers: dict[str, list[str]]) -> list[str]:
    """Members of ``wheel`` that hold a line of a course's reference (one its template does not also hold)
    or one of its model answers."""
    found = []
    for course in courses:
        ref_lines: dict[str, str] = {}
        public: set[str] = set()
        for a in course.assignments:
            if a.reference_folder is not None:
                for path in a.reference_folder.rglob("*"):
                    if path.is_file() and path.suffix in (".py", ".toml"):
                        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                            squeezed = _squeeze(line)
                            if len(squeezed) >= MIN_LINE and not squeezed.startswith(('"', "'", "def", "class")):
                                ref_lines.setdefault(squeezed, f"{path.name}:{number}")
            if a.template_folder is not None and a.template_folder.is_dir():
                public |= {_squeeze(line) for p in a.template_folder.iterdir() if p.is_file()
                           for line in p.read_text(encoding="utf-8", errors="replace").splitlines()}
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                # dlgrade's own modules are inspected by the built-ins' gate (and ``dlgrade author new``'s example
                # assignment is public by design): here, what the course's package and starter files became.
                if name.endswith(".npz") or not name.startswith((f"{course.top}/", "student_template/")):
                    continue
                text = archive.read(name).decode("utf-8", errors="replace")
                for line in sorted({_squeeze(x) for x in text.splitlines()} & set(ref_lines) - public):
                    found.append(f"{name}: reference line {ref_lines[line]} of {course.top}")
                for answer in answers.get(course.top, ()):
                    if answer in text:
                        found.append(f"{name}: the model answer {answer!r} of {course.top}")
    return found
