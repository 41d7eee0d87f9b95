"""What a spec's schema alone cannot say about its names: unique check ids, expressions that compile with the
names they may use, every parameter used, two different function names."""
from __future__ import annotations

from grader.reference import ExpressionError, compile_expression
from grader.spec.problems import SpecProblem, problem_at
from grader.spec.schema import AssignmentSpec
from grader.spec.yaml_lines import FieldPath


def name_problems(spec: AssignmentSpec, lines: dict[FieldPath, int], source: str) -> list[SpecProblem]:
    problems = []
    seen: set[str] = set()
    for i, check in enumerate(spec.checks):
        if check.id in seen:
            problems.append(problem_at(source, lines, ("checks", i, "id"), f"duplicate check id {check.id!r}"))
        seen.add(check.id)
    params = set(spec.model.params)
    allowed = {"forward": params | {"x"}, "loss": params | {"y_pred", "y"}}
    used: set[str] | None = set()
    for field, names in allowed.items():
        text = getattr(spec.model, field)
        try:
            compiled = compile_expression(text, names)
        except ExpressionError as exc:
            problems.append(problem_at(source, lines, ("model", field), str(exc)))
            used = None
            continue
        if used is not None:
            used |= set(compiled.names)
        if field == "loss" and "y_pred" not in compiled.names:
            problems.append(problem_at(source, lines, ("model", "loss"), "the loss never uses y_pred"))
    # a parameter no expression uses has no gradient: torch leaves its .grad None, the reference a zero
    for name in [] if used is None else [p for p in spec.model.params if p not in used]:
        problems.append(problem_at(source, lines, ("model", "params", name),
                                   "declared but used in neither model.forward nor model.loss"))
    if spec.functions.forward == spec.functions.loss:
        problems.append(problem_at(source, lines, ("functions",), "forward and loss need different names"))
    return problems
