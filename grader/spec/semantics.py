"""What a spec's schema alone cannot say about its names: unique check ids, expressions that compile with the
names they may use, every parameter used, two different function names."""
from __future__ import annotations

from typing import Iterable

from grader.messages import said
from grader.reference import ExpressionError, compile_expression
from grader.spec.problems import SpecProblem, problem_at
from grader.spec.schema import AssignmentSpec
from grader.spec.yaml_lines import FieldPath


def expression_problems(params: Iterable[str], expressions: dict[str, str], lines: dict[FieldPath, int],
                        source: str) -> tuple[list[SpecProblem], set[str] | None]:
    """The problems of model.forward and model.loss (those of `expressions`) with the names they may use, and
    the names they use (None when one does not compile)."""
    problems = []
    allowed = {"forward": set(params) | {"x"}, "loss": set(params) | {"y_pred", "y"}}
    used: set[str] | None = set()
    for field, text in expressions.items():
        try:
            compiled = compile_expression(text, allowed[field])
        except ExpressionError as exc:
            problems.append(problem_at(source, lines, ("model", field), said("spec.expression", error=str(exc))))
            used = None
            continue
        if used is not None:
            used |= set(compiled.names)
        if field == "loss" and "y_pred" not in compiled.names:
            problems.append(problem_at(source, lines, ("model", "loss"), said("spec.loss_without_prediction")))
    return problems, used


def raw_expression_problems(data: dict, lines: dict[FieldPath, int], source: str,
                            known: set[str]) -> list[SpecProblem]:
    """expression_problems of a spec the schema refused, where its model block can still be read: the other
    problems of a spec are reported in the same pass, not one upload later. `known`: fields already refused."""
    model = data.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("params"), dict) or "model.params" in known:
        return []
    expressions = {f: model[f] for f in ("forward", "loss") if isinstance(model.get(f), str) and f"model.{f}" not in known}
    return expression_problems([str(p) for p in model["params"]], expressions, lines, source)[0]


def name_problems(spec: AssignmentSpec, lines: dict[FieldPath, int], source: str) -> list[SpecProblem]:
    problems = []
    seen: set[str] = set()
    for i, check in enumerate(spec.checks):
        if check.id in seen:
            problems.append(problem_at(source, lines, ("checks", i, "id"), said("spec.duplicate_check_id",
                                                                                  id=repr(check.id))))
        seen.add(check.id)
    found, used = expression_problems(spec.model.params, {"forward": spec.model.forward, "loss": spec.model.loss},
                                      lines, source)
    problems += found
    # a parameter no expression uses has no gradient: torch leaves its .grad None, the reference a zero
    for name in [] if used is None else [p for p in spec.model.params if p not in used]:
        problems.append(problem_at(source, lines, ("model", "params", name), said("spec.param_unused")))
    if spec.functions.forward == spec.functions.loss:
        problems.append(problem_at(source, lines, ("functions",), said("spec.same_function_names")))
    return problems
