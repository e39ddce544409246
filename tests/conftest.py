"""Shared fixtures: one preloaded worker for the whole run, and submissions made on the fly."""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

import pytest

from grader import api
from grader.runner.sandbox import Zygote

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_A1 = (ROOT / "reference" / "a1" / "mlp.py").read_text()


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` (long sweeps, whole classes, full student builds) run only when asked for:
    ``DLGRADE_SLOW=1``, or a ``-m`` expression that names them. The default run stays fast."""
    if os.environ.get("DLGRADE_SLOW") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with DLGRADE_SLOW=1 (or -m slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _process_wide_state_untouched():
    """No test may leave process-wide state changed: the temporary folder (every later test would stage
    into it; a race in the batch worker once did, and 146 tests failed after it in CI), the working folder,
    or the handlers of the signals that stop a grading."""
    before = _process_wide_state()
    yield
    assert _process_wide_state() == before, "a test left process-wide state changed"


def _process_wide_state() -> dict:
    return {"tempdir": tempfile.gettempdir(),  # which also fixes it once for the process, as any first caller would
            "cwd": os.getcwd(),
            "signals": {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}}


@pytest.fixture(scope="session")
def zygote():
    with Zygote() as z:
        yield z


@pytest.fixture
def make_submission(tmp_path):
    """Write ``{filename: source}`` into a fresh folder and return its path."""
    counter = iter(range(1000))

    def make(files: dict[str, str]) -> Path:
        folder = tmp_path / f"submission{next(counter)}"
        folder.mkdir()
        for name, source in files.items():
            (folder / name).write_text(source)
        return folder

    return make


@pytest.fixture
def grade(zygote, make_submission):
    """Grade ``{filename: source}`` (or a path) for an assignment; returns the report."""

    def run(assignment: str, files, *, tasks=None, seed: int = 1234, timeout_scale: float = 1.0):
        path = files if isinstance(files, Path) else make_submission(files)
        return api.check(assignment, path, tasks=tasks, seed=seed, zygote=zygote, timeout_scale=timeout_scale)

    return run


def mutate(source: str, *replacements: tuple[str, str]) -> str:
    """Apply exact text replacements, failing loudly if one no longer matches."""
    for old, new in replacements:
        assert source.count(old) == 1, f"mutation target not found exactly once: {old!r}"
        source = source.replace(old, new)
    return source


def assert_hints(report, gists: dict[str, str]) -> None:
    """Each named check's message or hint contains its gist (what the student is told)."""
    checks = by_id(report)
    for check_id, gist in gists.items():
        text = checks[check_id].message + " " + checks[check_id].hint
        assert gist in text, f"{check_id}: {text}"


def failing(report) -> set[str]:
    return {c.id for c in report.checks if c.status not in ("passed", "skipped")}


def by_id(report) -> dict:
    return {c.id: c for c in report.checks}


def with_prelude(code: str, source: str = REFERENCE_A1) -> str:
    """``source`` with ``code`` run at import, right after its ``__future__`` line."""
    marker = "from __future__ import annotations\n"
    return source.replace(marker, marker + code, 1) if marker in source else code + source
