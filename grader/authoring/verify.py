"""``dlgrade author verify ID``: an assignment's own acceptance test.

1. the reference scores full marks under each of K seeds;
2. the template (derived from the reference's solution markers, or the hand-written one) scores
   no more than the points the assignment declares as given, and the template folder on disk is
   what the markers give;
3. every declared ``Mistake`` fails its check with its hint;
4. mutation analysis: every mutant of the reference (``grader.authoring.mutants``) is graded in
   the sandbox, like any submission, by the checks that read its file; a mutant is caught when
   some check does not pass. Survivors the assignment declares ``Equivalent`` are not counted.

``ok`` (exit 0) needs 1-3; the mutation score is reported, and gates only with ``min_mutation_score``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader.authoring.markers import derive_files, has_markers, student_files
from grader.authoring.mutants import Mutant, mutants, sample
from grader.errors import UsageError


@dataclass(frozen=True)
class MutationSummary:
    """What the mutants showed: counts, survivors as ``file:line: change``, and scores per check and function."""

    total: int = 0
    caught: int = 0
    equivalent: int = 0
    survivors: tuple[str, ...] = ()
    equivalent_survivors: tuple[str, ...] = ()
    per_check: dict[str, dict[str, int]] = field(default_factory=dict)  # check -> {"graded", "caught"}
    per_function: dict[str, dict[str, int]] = field(default_factory=dict)  # file:function -> {"total", "caught"}
    seconds: float = 0.0

    @property
    def score(self) -> float | None:
        """Caught / (total - equivalent), or None when there is nothing to count."""
        counted = self.total - self.equivalent
        return self.caught / counted if counted else None

    def to_dict(self) -> dict:
        return {"total": self.total, "caught": self.caught, "equivalent": self.equivalent,
                "survivors": list(self.survivors), "equivalent_survivors": list(self.equivalent_survivors),
                "score": self.score, "per_check": self.per_check, "per_function": self.per_function,
                "seconds": round(self.seconds, 2)}


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of ``author verify``; ``ok`` says whether reference, template and hints hold."""

    assignment: str
    reference_files: tuple[str, ...]
    template_files: tuple[str, ...]
    reference_score: float
    template_score: float
    max_score: float
    seeds: tuple[int, ...]
    mutants: MutationSummary
    problems: tuple[str, ...]
    min_mutation_score: float | None = None

    @property
    def mutation_ok(self) -> bool:
        score = self.mutants.score
        return self.min_mutation_score is None or score is None or score >= self.min_mutation_score

    @property
    def ok(self) -> bool:
        return not self.problems and self.mutation_ok

    def to_dict(self) -> dict:
        return {"assignment": self.assignment, "reference_files": list(self.reference_files),
                "template_files": list(self.template_files), "reference_score": self.reference_score,
                "template_score": self.template_score, "max_score": self.max_score, "seeds": list(self.seeds),
                "mutants": self.mutants.to_dict(), "problems": list(self.problems), "ok": self.ok}


def _copy(files: dict[str, Path | str], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if isinstance(content, Path):
            shutil.copyfile(content, folder / name)
        else:
            (folder / name).write_text(content, encoding="utf-8")
    return folder


def verify(assignment_id: str, *, seeds: int = 3, mutant_limit: int | None = 100,
           min_mutation_score: float | None = None, jobs: int | None = None,
           progress: Callable[[str], None] | None = None, killer_first: bool = True) -> VerifyResult:
    """Run the acceptance test of ``assignment_id``; see the module docstring.

    ``killer_first``: grade each mutant first with the one check that caught most mutants of the same
    function so far, and with the others only if it passes (False: every check, every mutant; for bench/).
    """
    from grader import api, oracle
    from grader.runner.sandbox import Zygote

    if oracle.STUDENT_BUILD:
        raise UsageError("author verify needs the reference: run it in the staff's build.")
    if seeds < 1:
        raise UsageError("--seeds must be at least 1.")
    a = api.get_assignment(assignment_id)
    api.require(a)
    reference = a.reference_folder
    if reference is None:
        raise UsageError(f"{a.id}: its reference package {a.reference_package!r} is not installed here.")
    files = student_files(a)
    ref_files = {name: reference / name for name in files if (reference / name).is_file()}
    if not ref_files:
        raise UsageError(f"{a.id}: the reference folder {reference} holds none of {', '.join(files)}.")
    say = progress or (lambda text: None)
    problems: list[str] = []
    template = a.template_folder
    derived = derive_files(reference, template, files)
    for name, path in ref_files.items():
        text = path.read_text(encoding="utf-8")
        on_disk = template / name if template is not None else None
        if has_markers(text) and (on_disk is None or not on_disk.is_file()
                                  or on_disk.read_text(encoding="utf-8") != derived[name]):
            problems.append(f"the template's {name} is not what the reference's solution markers give: "
                            f"run dlgrade author template {a.id}")
    zygote = Zygote(preload=a.preload)
    try:
        with tempfile.TemporaryDirectory(prefix="dlgrade-verify-") as tmp:
            work = Path(tmp)
            reference_score = a.total_points
            for seed in range(1, seeds + 1):
                say(f"reference, seed {seed}")
                report = api.check(a, reference, seed=seed, zygote=zygote, jobs=jobs)
                reference_score = min(reference_score, report.score)
                for c in report.checks:
                    if c.status != "passed":
                        problems.append(f"the reference fails {c.id} under seed {seed}: {c.status}: {c.message}")
            template_score = 0.0
            if derived:
                say("template")
                report = api.check(a, _copy(derived, work / "template"), seed=1, zygote=zygote, jobs=jobs)
                template_score = report.score
                if report.score > a.given_points + 1e-9:
                    passed = ", ".join(c.id for c in report.checks if c.status == "passed")
                    problems.append(f"the template scores {report.score:g} (more than the {a.given_points:g} "
                                    f"points declared as given): it passes {passed}")
            else:
                problems.append(f"{a.id} has no template: no starter files and no solution markers")
            for mistake in a.mistakes:
                problems += _mistake(api, a, mistake, zygote, jobs)
            summary = _mutation(api, a, ref_files, work, zygote, mutant_limit, jobs, say, killer_first)
    finally:
        zygote.close()
    return VerifyResult(a.id, tuple(ref_files), tuple(derived), reference_score, template_score, a.total_points,
                        tuple(range(1, seeds + 1)), summary, tuple(problems), min_mutation_score)


def _mistake(api, a, mistake, zygote, jobs) -> list[str]:
    folder = a.package_folder / mistake.folder if a.package_folder is not None else None
    if folder is None or not folder.is_dir():
        return [f"the mistake {mistake.folder} is not a folder in {a.package}"]
    report = api.check(a, folder, seed=1, zygote=zygote, jobs=jobs)
    result = next((c for c in report.checks if c.id == mistake.check), None)
    if result is None:
        return [f"the mistake {mistake.folder} names check {mistake.check!r}, which {a.id} does not have"]
    if result.status == "passed":
        return [f"{mistake.folder} passes {mistake.check}: the check does not catch the mistake it declares"]
    if mistake.hint.lower() not in (result.hint + " " + result.message).lower():
        return [f"{mistake.folder} fails {mistake.check} without the declared hint {mistake.hint!r} "
                f"(got: {result.hint or result.message!r})"]
    return []


def _mutation(api, a, ref_files: dict[str, Path], work: Path, zygote, limit: int | None, jobs,
              say: Callable[[str], None], killer_first: bool = True) -> MutationSummary:
    if limit == 0:
        return MutationSummary()
    found: list[Mutant] = []
    for name, path in ref_files.items():
        if name.endswith(".py"):
            found += mutants(path.read_text(encoding="utf-8"), name)
    chosen = sample(found, limit)
    started = time.monotonic()
    caught = 0
    survivors: list[str] = []
    equivalent: list[str] = []
    per_check: dict[str, dict[str, int]] = {}
    per_function: dict[str, dict[str, int]] = {}
    killers: dict[str, dict[str, int]] = {}  # file:function -> check id -> mutants of it that check caught
    for number, mutant in enumerate(chosen, start=1):
        say(f"mutant {number}/{len(chosen)}: {mutant.where}")
        key = f"{mutant.file}:{mutant.function}"
        checks = [c.id for c in a.checks if mutant.file in c.files]
        folder = _copy({**ref_files, mutant.file: mutant.source}, work / f"mutant{number}")
        # The check that caught most mutants of the same function goes first, alone: most mutants end there.
        first = max(killers.get(key, {}).items(), key=lambda item: item[1], default=(None, 0))[0]
        rounds = [[first], [c for c in checks if c != first]] if first and killer_first else [checks]
        failing: list[str] = []
        for batch in rounds:
            if failing or not batch:
                break
            report = api.check(a, folder, tasks=batch, seed=1, zygote=zygote, jobs=jobs)
            graded = [c for c in report.checks if c.id in batch]
            failing = [c.id for c in graded if c.status != "passed"]
            for c in graded:
                stats = per_check.setdefault(c.id, {"graded": 0, "caught": 0})
                stats["graded"] += 1
                stats["caught"] += c.status != "passed"
        shutil.rmtree(folder, ignore_errors=True)
        for check_id in failing:
            killers.setdefault(key, {}).setdefault(check_id, 0)
            killers[key][check_id] += 1
        function = per_function.setdefault(key, {"total": 0, "caught": 0})
        function["total"] += 1
        if failing:
            caught += 1
            function["caught"] += 1
        elif any(e.matches(mutant.where) for e in a.equivalent_mutants):
            equivalent.append(mutant.where)
        else:
            survivors.append(mutant.where)
    return MutationSummary(len(chosen), caught, len(equivalent), tuple(survivors), tuple(equivalent), per_check,
                           per_function, time.monotonic() - started)
