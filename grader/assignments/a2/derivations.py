"""a2 task 2.4: the written derivations in answers.toml, one check per part.

Judged by ``grader.checks.symbolic`` in the parent: no student code runs, and
the answer strings are parsed by the whitelisted expression parser.
"""

from __future__ import annotations

from grader.assignments.a2.questions import QUESTIONS, describe
from grader.assignments.a2.spec import A2
from grader.authoring import CheckContext, CheckFailed, CheckUndecided, GradientQuestion, answer
from grader.authoring import judge_gradient as judge
from grader.authoring import warm_gradients as warm

A2.questions = describe()  # the written questions, shown by `dlgrade show a2`
A2.warm_up = warm  # SymPy, for the derivations: warmed while the sandbox starts


def _derivation(ctx: CheckContext, question: GradientQuestion) -> str:
    text = answer(ctx, question.table, question.key)
    verdict = judge(question, text, seed=int(ctx.rng.integers(2**31)))
    if verdict.status == "failed":
        raise CheckFailed(verdict.message, verdict.hint)
    if verdict.status == "undecided":
        raise CheckUndecided(verdict.message)
    return verdict.message


for _question in QUESTIONS:
    def _make(question=_question):
        def check(ctx: CheckContext) -> str:
            return _derivation(ctx, question)
        check.__name__ = f"{question.table}_{question.key}"
        check.__doc__ = question.prompt
        return check
    A2.check("2.4", f"[{_question.table}] {_question.key}", points=2, files=("answers.toml",))(_make())
