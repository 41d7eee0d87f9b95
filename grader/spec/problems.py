"""What is wrong with a spec, as records: the file, the line, the field and the problem, a message code and its
parameters ("spec.*" in grader.messages), worded only when shown.

`SpecError` carries the records: pages mark the lines and fields from them and word each problem in the viewer's
language, a dry run stores them, the CLI prints them in its own; its text is one `file:line: field: problem`
line per record, in English. Pydantic's errors become records here: each error type a spec meets has a code
with pydantic's context as its parameters (`greater_than_equal` → spec.at_least {bound, got}); a refusal of
our own validators is a code already (grader.spec.schema.refused); a rare type is said in pydantic's own
words (spec.invalid_value).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from pydantic import ValidationError

from grader.i18n import DEFAULT_LANGUAGE
from grader.messages import MESSAGES, is_message, located, render, said
from grader.spec.schema import describe
from grader.spec.yaml_lines import FieldPath, field_name, line_for


@dataclass(frozen=True)
class SpecProblem:
    """One problem of a spec. A problem of the whole file has no line or field; one of no file (an unknown
    assignment id) has no file either. `message` is a message as grader.messages.said writes it; a dry run
    stored before problems were codes holds English text there instead, shown as it is."""

    file: str | None
    line: int | None
    field: str | None
    message: dict | str

    def problem(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """The problem in `lang`."""
        if is_message(self.message):
            return render(self.message["code"], self.message["params"], lang)
        return str(self.message)

    def text(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """`file:line: field: problem` in `lang`."""
        return located(self.as_dict(), lang)

    def __str__(self) -> str:
        return self.text()

    def __hash__(self) -> int:  # the message is a dict: a problem found twice is reported once (SpecError)
        return hash((self.file, self.line, self.field, json.dumps(self.message, sort_keys=True, default=str)))

    def as_dict(self) -> dict:
        """As a dry run's result stores it: file, line, field and message."""
        return asdict(self)


def problem_at(source: str, lines: dict[FieldPath, int], path: FieldPath, message: dict) -> SpecProblem:
    """A problem of one field, on the line the field starts on."""
    return SpecProblem(source, line_for(lines, path), field_name(path), message)


class SpecError(ValueError):
    """A spec the grader refuses, with every problem found. A problem of no file, line or field (an unknown
    assignment id) may be given as a bare message."""

    def __init__(self, problems: list[SpecProblem | dict]):
        self.problems = list(dict.fromkeys(p if isinstance(p, SpecProblem) else SpecProblem(None, None, None, p)
                                           for p in problems))
        super().__init__("\n".join(self.lines))

    def text_lines(self, lang: str = DEFAULT_LANGUAGE) -> list[str]:
        """One 'file:line: field: problem' line per problem, in `lang`."""
        return [p.text(lang) for p in self.problems]

    @property
    def lines(self) -> list[str]:
        """One 'file:line: field: problem' line per problem, in English."""
        return self.text_lines()


# pydantic's error types a spec meets → the code that says them, with the value as the spec has it ({got})
EXPECTED = {"float_parsing": "spec.expected_number", "float_type": "spec.expected_number",
            "int_parsing": "spec.expected_whole_number", "int_type": "spec.expected_whole_number",
            "int_from_float": "spec.expected_whole_number",
            "string_pattern_mismatch": "spec.expected_python_name",  # only names of Python functions have a pattern
            "finite_number": "spec.expected_finite", "string_type": "spec.expected_text",
            "list_type": "spec.expected_list", "dict_type": "spec.expected_mapping",
            "model_type": "spec.expected_mapping", "bool_type": "spec.expected_bool",
            "datetime_type": "spec.expected_datetime", "datetime_parsing": "spec.expected_datetime",
            "datetime_from_date_parsing": "spec.expected_datetime"}
# ... with a bound from pydantic's context: (code, its key in ctx)
BOUNDS = {"greater_than_equal": ("spec.at_least", "ge"), "less_than_equal": ("spec.at_most", "le"),
          "greater_than": ("spec.greater_than", "gt"), "less_than": ("spec.less_than", "lt")}
# ... with a length: (code, code when the bound is 1, its key in ctx)
LENGTHS = {"too_short": ("spec.too_few_items", "spec.too_few_items_one", "min_length"),
           "too_long": ("spec.too_many_items", "spec.too_many_items_one", "max_length"),
           "string_too_short": ("spec.text_too_short", "spec.text_too_short_one", "min_length"),
           "string_too_long": ("spec.text_too_long", "spec.text_too_long_one", "max_length")}
WITHOUT_VALUE = {"extra_forbidden": "spec.unknown_key", "missing": "spec.missing"}


def _message(error: dict) -> dict:
    """A pydantic error as a message: words an instructor reads without knowing pydantic."""
    kind, ctx = error["type"], error.get("ctx") or {}
    got = describe(error.get("input"))
    if kind.startswith("spec.") and kind in MESSAGES:  # one of our validators refused it (schema.refused)
        return said(kind, **ctx)
    if kind in EXPECTED:
        return said(EXPECTED[kind], got=got)
    if kind in BOUNDS:
        code, key = BOUNDS[kind]
        bound = ctx[key]
        return said(code, bound=int(bound) if isinstance(bound, float) and bound.is_integer() else bound, got=got)
    if kind in LENGTHS:  # text quotes the value, a list says how many items it has (when pydantic counted them)
        many, one, key = LENGTHS[kind]
        count = got if kind.startswith("string") else ctx.get("actual_length")
        if count is not None:
            return said(one if ctx[key] == 1 else many, bound=ctx[key], got=count)
    if kind in WITHOUT_VALUE:
        return said(WITHOUT_VALUE[kind])
    if kind == "literal_error":
        return said("spec.expected_one_of", expected=str(ctx["expected"]), got=got)
    if kind == "value_error":
        return said("spec.refused", problem=str(ctx["error"]))
    return said("spec.invalid_value", problem=error["msg"][0].lower() + error["msg"][1:], got=got)


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
