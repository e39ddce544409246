"""The student-facing pages that travel with dlgrade: the handouts and the answer-writing guide.

``dlgrade docs a1`` (or a2, a3, a4, answers, handouts) prints one of them.
In the staff's checkout they are read from ``docs/``; an installed wheel
(the student build in particular) carries copies as package data under
``grader/docs_data/``, so every "see ..." in a message names a page the
student has, whichever build they run.
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.errors import UsageError

PACKAGED = Path(__file__).resolve().parent / "docs_data"
CHECKOUT = Path(__file__).resolve().parents[1] / "docs"
# name -> the page's path under docs/ (and its file name under docs_data/: the path with "/" as "-")
PAGES = {
    "handouts": "handouts/README.md",
    "a1": "handouts/a1.md",
    "a2": "handouts/a2.md",
    "a3": "handouts/a3.md",
    "a4": "handouts/a4.md",
    "answers": "writing-answers.md",
}
DESCRIPTIONS = {
    "handouts": "the rules every assignment shares, and the list of handouts",
    "a1": "handout: a neural network from scratch",
    "a2": "handout: autograd by hand",
    "a3": "handout: convolution and batch normalization",
    "a4": "handout: LeNet in PyTorch on CIFAR-10",
    "answers": "how to write answers.toml: every accepted spelling, with examples",
}


def packaged_name(page: str) -> str:
    """The file name a page has under ``grader/docs_data/`` (``handouts/a1.md`` -> ``handouts-a1.md``)."""
    return page.replace("/", "-")


def page_path(name: str) -> Path:
    """Where page ``name`` is in this installation: the wheel's copy, else the checkout's ``docs/``."""
    if name not in PAGES:
        raise UsageError(f"no page {name!r}; the pages are: {', '.join(PAGES)}")
    for path in (PACKAGED / packaged_name(PAGES[name]), CHECKOUT / PAGES[name]):
        if path.is_file():
            return path
    raise UsageError(f"this installation of dlgrade has no {PAGES[name]} (neither packaged nor in a checkout)")


def read_page(name: str) -> str:
    """The Markdown text of page ``name`` (see ``PAGES``)."""
    text = page_path(name).read_text(encoding="utf-8")
    # A link to another page becomes the command that prints it: a student has no docs/ folder.
    for other, page in PAGES.items():
        target = "|".join(re.escape(w) for w in (f"../{page}", page, Path(page).name))
        text = re.sub(rf"\[([^\]\n]+)\]\((?:{target})\)", rf"\1 (`dlgrade docs {other}`)", text)
    return text


def stage_pages(root: Path, target: Path) -> list[Path]:
    """Copy every page from the checkout ``root``'s ``docs/`` into ``target`` (a wheel's ``grader/docs_data/``)."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for page in PAGES.values():
        path = target / packaged_name(page)
        path.write_text((root / "docs" / page).read_text(encoding="utf-8"), encoding="utf-8")
        written.append(path)
    return written
