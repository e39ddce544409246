"""The built-ins' declared equivalent mutants still name mutants of their references.

``Equivalent(where, reason)`` names a survivor by ``file:line: change``: an edit of the reference that
moves lines would leave a declaration excusing some other mutant, or none. This keeps every declaration
pointing at a mutant ``dlgrade author verify`` makes (no grading: listing mutants is quick).
"""

from __future__ import annotations

import pytest

from grader import api
from grader.authoring.mutants import mutants


@pytest.mark.parametrize("assignment", ["a1", "a2", "a3"])
def test_every_declared_equivalent_names_a_mutant_of_the_reference(assignment):
    a = api.get_assignment(assignment)
    found = [m.where for name in a.files if name.endswith(".py")
             for m in mutants((a.reference_folder / name).read_text(encoding="utf-8"), name)]
    assert a.equivalent_mutants, f"{assignment} declares no equivalent mutants"
    for declared in a.equivalent_mutants:
        assert any(declared.matches(where) for where in found), (declared.where, "matches no mutant")
        assert declared.reason.strip() and len(declared.reason) > 30, declared.where
