"""What is wrong with a spec, as records: the file, the line, the field and the problem.

`SpecError` carries the records (pages mark the lines and fields from them); its text is one
`file:line: field: problem` line per record. Pydantic's errors become records here, in words an instructor
reads without knowing pydantic.
"""
from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from grader.spec.schema import describe
from grader.spec.yaml_lines import FieldPath, field_name, line_for


@dataclass(frozen=True)
class SpecProblem:
    """One problem of a spec. A problem of the whole file has no line or field; one of no file (an unknown
    assignment id) has no file either."""

    file: str | None
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = ":".join(str(part) for part in (self.file, self.line) if part is not None)
        return ": ".join(part for part in (where, self.field, self.message) if part)


def problem_at(source: str, lines: dict[FieldPath, int], path: FieldPath, message: str) -> SpecProblem:
    """A problem of one field, on the line the field starts on."""
    return SpecProblem(source, line_for(lines, path), field_name(path), message)


class SpecError(ValueError):
    """A spec the grader refuses, with every problem found. A bare sentence (no file, line or field) may be
    given as a str."""

    def __init__(self, problems: list[SpecProblem | str]):
        self.problems = list(dict.fromkeys(p if isinstance(p, SpecProblem) else SpecProblem(None, None, None, p)
                                           for p in problems))
        super().__init__("\n".join(self.lines))

    @property
    def lines(self) -> list[str]:
        """One 'file:line: field: problem' line per problem."""
        return [str(p) for p in self.problems]


def _message(error: dict) -> str:
    """A pydantic error in words an instructor reads without knowing pydantic."""
    kind, value = error["type"], error.get("input")
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        wanted = "a whole number" if kind.startswith("int") else "a number"
        return f"expected {wanted}, got {describe(value)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        words = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
                 "greater_than": ("greater than", "gt"), "less_than": ("less than", "lt")}[kind]
        bound = error["ctx"][words[1]]
        bound = int(bound) if isinstance(bound, float) and bound.is_integer() else bound
        return f"must be {words[0]} {bound}, got {describe(value)}"
    if kind == "string_pattern_mismatch":  # only names of Python functions have a pattern
        return f"expected a Python name (letters, digits and _), got {describe(value)}"
    if kind == "finite_number":
        return f"expected a finite number, got {describe(value)}"
    if kind in ("too_short", "too_long"):
        bound = error["ctx"]["min_length" if kind == "too_short" else "max_length"]
        many = "at least" if kind == "too_short" else "at most"
        got = error["ctx"].get("actual_length")
        return f"needs {many} {bound} item{'s' if bound != 1 else ''}" + ("" if got is None else f", got {got}")
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see the README's spec reference)"
    if kind == "missing":
        return "required but missing"
    if kind == "literal_error":
        return f"expected one of {error['ctx']['expected']}, got {describe(value)}"
    if kind in ("string_type", "list_type", "dict_type", "model_type", "bool_type", "datetime_type",
                "datetime_parsing", "datetime_from_date_parsing"):
        wanted = {"string_type": "text", "list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping",
                  "bool_type": "true or false"}.get(kind, "a date and time like 2026-12-10T23:59:00+08:00")
        return f"expected {wanted}, got {describe(value)}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return error["msg"][0].lower() + error["msg"][1:] + f", got {describe(value)}"


UNION_LABELS = ("float", "int", "str", "Param", "PredictionInput", "literal['student']")


def _pydantic_path(loc: tuple, lines: dict) -> tuple[FieldPath, FieldPath | None, str | None]:
    """(field path, path of the union value, union branch): pydantic's branch labels ('float',
    'list[float]') dropped from an error location. A key the YAML really has (an unknown key named
    `float`, say) is kept."""
    path: FieldPath = ()
    union_at, branch = None, None
    for part in loc:
        label = isinstance(part, str) and ("[" in part or part in UNION_LABELS)
        if not label or path + (part,) in lines:
            path += (part,)
        elif union_at is None:
            union_at, branch = path, part
        else:  # a union inside a branch (Param.init): each inner branch is a branch of the outer value
            branch = f"{branch}/{part}"
    return path, union_at, branch


def validation_problems(exc: ValidationError, lines: dict[FieldPath, int], source: str,
                        prefix: FieldPath = ()) -> list[SpecProblem]:
    """One record per problem. A value no branch of a union accepts is reported once, by the branch
    that got furthest (`[1, 'a']` for a list of numbers: the 'a', not "expected a number")."""
    out: list = []  # a SpecProblem, or the key of a union value whose problems come later
    branches: dict[FieldPath, dict[str, list[tuple[float, SpecProblem]]]] = {}
    for err in exc.errors():
        path, union_at, branch = _pydantic_path(prefix + tuple(err["loc"]), lines)
        problem = problem_at(source, lines, path, _message(err))
        if union_at is None:
            out.append(problem)
            continue
        if union_at not in branches:
            branches[union_at] = {}
            out.append(union_at)
        # a branch that took the value's type (a mapping for Param) says more than "expected a number"
        took_type = not err["type"].endswith("_type")
        branches[union_at].setdefault(branch, []).append((len(path) + 0.5 * took_type, problem))
    result = []
    for item in out:
        if isinstance(item, SpecProblem):
            result.append(item)
            continue
        options = list(branches[item].values())  # in the union's order: the first wins a tie
        best = max(options, key=lambda found: max(depth for depth, _ in found))
        result += [problem for _, problem in best]
    return result
