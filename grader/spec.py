"""Assignment specs: YAML → validated objects. Every error names the file, the line and the field."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from grader.reference import ExpressionError, compile_expression
from grader.spec_data import CsvProblem, resolve_data_files
from grader.spec_meaning import check_meaning
from grader.spec_models import (  # noqa: F401 - the schema's names, re-exported: grader.spec is where they are found
    FUNCTIONS_IN_EXPRESSIONS,
    PARAM_NAME,
    SLUG,
    AssignmentSpec,
    Check,
    CheckKind,
    Data,
    Functions,
    Late,
    Limits,
    Model,
    Param,
    PredictionInput,
    Probes,
    Training,
    _describe,
)

MAX_SPEC_BYTES = 256 * 1024
MAX_YAML_DEPTH = 32  # a spec needs about 6 levels
MAX_YAML_NODES = 200_000  # every alias counted as the copy it stands for; 256 KB without aliases stays below
SPEC_FILENAME = "assignment.yaml"


class SpecError(ValueError):
    """A spec the grader refuses. `lines` holds one 'file:line: field: problem' per problem."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


# ---------------------------------------------------------------------------------------------
# Loading


class _LineLoader(yaml.SafeLoader):
    """SafeLoader with bounds on nesting and on size with aliases expanded (no "billion laughs")."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._sizes: dict[int, int] = {}  # id(node) -> how many nodes it stands for, once composed

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None:
                if id(node) not in self._sizes:
                    raise yaml.composer.ComposerError(
                        None, None, f"the alias *{event.anchor} is used inside its own anchor", event.start_mark)
                self._count(self._sizes[id(node)], event.start_mark)
            return super().compose_node(parent, index)
        mark = self.peek_event().start_mark
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_YAML_DEPTH} levels deep", mark)
        before = self._nodes
        self._count(1, mark)
        node = super().compose_node(parent, index)
        self._depth -= 1
        self._sizes[id(node)] = self._nodes - before
        return node

    def construct_yaml_timestamp(self, node):
        # "+25:00" or "2026-02-30" passes YAML's pattern but not datetime: a ValueError without a line
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a real date and time ({exc})", node.start_mark) from None

    def _count(self, nodes: int, mark) -> None:
        self._nodes += nodes
        if self._nodes > MAX_YAML_NODES:
            raise yaml.composer.ComposerError(
                None, None, f"the spec expands to more than {MAX_YAML_NODES} values (aliases included)", mark)


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _LineLoader.construct_yaml_timestamp)


def _yaml_lines(node: yaml.Node, path: tuple = (), lines: dict | None = None, problems: list | None = None):
    """Map each field path to the line it starts on; collect duplicate keys as problems."""
    lines = {} if lines is None else lines
    problems = [] if problems is None else problems
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            if key in seen:
                problems.append((key_node.start_mark.line + 1, path + (key,), f"duplicate key {key!r}"))
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _yaml_lines(value_node, path + (key,), lines, problems)
            lines[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _yaml_lines(item, path + (i,), lines, problems)
    return lines, problems


def _line_for(lines: dict, path: tuple) -> int | None:
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


def _field(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _message(error: dict) -> str:
    """A pydantic error in words an instructor reads without knowing pydantic."""
    kind, value = error["type"], error.get("input")
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        wanted = "a whole number" if kind.startswith("int") else "a number"
        return f"expected {wanted}, got {_describe(value)}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        words = {"greater_than_equal": ("at least", "ge"), "less_than_equal": ("at most", "le"),
                 "greater_than": ("greater than", "gt"), "less_than": ("less than", "lt")}[kind]
        bound = error["ctx"][words[1]]
        bound = int(bound) if isinstance(bound, float) and bound.is_integer() else bound
        return f"must be {words[0]} {bound}, got {_describe(value)}"
    if kind == "string_pattern_mismatch":  # only names of Python functions have a pattern
        return f"expected a Python name (letters, digits and _), got {_describe(value)}"
    if kind == "finite_number":
        return f"expected a finite number, got {_describe(value)}"
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
        return f"expected one of {error['ctx']['expected']}, got {_describe(value)}"
    if kind in ("string_type", "list_type", "dict_type", "model_type", "bool_type", "datetime_type",
                "datetime_parsing", "datetime_from_date_parsing"):
        wanted = {"string_type": "text", "list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping",
                  "bool_type": "true or false"}.get(kind, "a date and time like 2026-12-10T23:59:00+08:00")
        return f"expected {wanted}, got {_describe(value)}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return error["msg"][0].lower() + error["msg"][1:] + f", got {_describe(value)}"


UNION_LABELS = ("float", "int", "str", "Param", "PredictionInput", "literal['student']")


def _pydantic_path(loc: tuple, lines: dict) -> tuple[tuple, tuple | None, str | None]:
    """(field path, path of the union value, union branch): pydantic's branch labels ('float',
    'list[float]') dropped from an error location. A key the YAML really has (an unknown key named
    `float`, say) is kept."""
    path: tuple = ()
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


def _validation_lines(exc: ValidationError, lines: dict, source: str, prefix: tuple = ()) -> list[str]:
    """One line per problem. A value no branch of a union accepts is reported once, by the branch
    that got furthest (`[1, 'a']` for a list of numbers: the 'a', not "expected a number")."""
    out: list = []  # a str, or the key of a union value whose lines come later
    branches: dict[tuple, dict[str, list[tuple[int, str]]]] = {}
    for err in exc.errors():
        path, union_at, branch = _pydantic_path(prefix + tuple(err["loc"]), lines)
        text = f"{source}:{_line_for(lines, path)}: {_field(path)}: {_message(err)}"
        if union_at is None:
            out.append(text)
            continue
        if union_at not in branches:
            branches[union_at] = {}
            out.append(union_at)
        # a branch that took the value's type (a mapping for Param) says more than "expected a number"
        took_type = not err["type"].endswith("_type")
        branches[union_at].setdefault(branch, []).append((len(path) + 0.5 * took_type, text))
    result = []
    for item in out:
        if isinstance(item, str):
            result.append(item)
            continue
        options = list(branches[item].values())  # in the union's order: the first wins a tie
        best = max(options, key=lambda found: max(depth for depth, _ in found))
        result += [text for _, text in best]
    return result


def parse_spec(text: str, source: str = "<spec>", base_dir: str | Path | None = None) -> AssignmentSpec:
    """Validate spec text; raise SpecError with every problem found, each with file, line and field.

    Data files (`data: {csv: ...}`) are read from `base_dir`, the spec's folder (load_spec passes it),
    unless the spec carries their content inline (`text:`)."""
    if len(text.encode("utf-8", "replace")) > MAX_SPEC_BYTES:
        raise SpecError([f"{source}: the spec is larger than {MAX_SPEC_BYTES // 1024} KB"])
    try:
        loader = _LineLoader(text)  # one parse gives both the lines (nodes) and the values
        try:
            node = loader.get_single_node()
            data = None if node is None else loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context:  # e.g. "while parsing a flow sequence", where it began
            where = f" on line {exc.context_mark.line + 1}" if exc.context_mark else ""
            problem = f"{exc.problem} ({exc.context}{where})"
        if "could not determine a constructor" in str(exc):
            problem = "YAML tags that build objects are not allowed (" + (exc.problem or "").strip() + ")"
        raise SpecError([f"{source}{line}: {problem}"]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML never allows (NUL, a control character)
        line = text.count("\n", 0, exc.position) + 1
        raise SpecError([f"{source}:{line}: the character U+{exc.character:04X} is not allowed in YAML "
                         f"(remove it, or write it as an escape inside double quotes)"]) from None
    except yaml.YAMLError as exc:
        raise SpecError([f"{source}: invalid YAML: {exc}"]) from None
    if data is None:
        raise SpecError([f"{source}:1: the spec is empty"])
    if not isinstance(data, dict):
        raise SpecError([f"{source}:1: the spec must be a mapping of keys (id, title, model, ...)"])
    lines, problems = _yaml_lines(node)
    errors = [f"{source}:{line}: {_field(path)}: {msg}" for line, path, msg in problems]
    data, file_errors = _with_data_files(data, lines, source, base_dir)
    errors += file_errors
    try:
        spec = AssignmentSpec.model_validate(data)
    except ValidationError as exc:
        errors += _validation_lines(exc, lines, source)
        raise SpecError(_dedupe(errors)) from None
    if not file_errors:  # the model cannot be tried on data that did not load
        errors += _check_semantics(spec, lines, source)
    if errors:
        raise SpecError(_dedupe(errors))
    return spec


def _with_data_files(data: dict, lines: dict, source: str, base_dir: str | Path | None) -> tuple[dict, list[str]]:
    """The spec's mapping with every `{csv: ...}` data block replaced by the samples it names."""
    try:
        return resolve_data_files(data, None if base_dir is None else Path(base_dir)), []
    except CsvProblem as problem:
        if problem.validation is not None:
            return (_placeholder_data(data, problem.path),
                    _validation_lines(problem.validation, lines, source, problem.path))
        path = problem.path + ((problem.field,) if problem.field else ())
        return _placeholder_data(data, problem.path), [f"{source}:{_line_for(lines, path)}: {_field(path)}: {problem.message}"]


def _placeholder_data(spec: dict, path: tuple) -> dict:
    """The spec with a data block that failed to load replaced by one sample, so that the rest of the
    spec is still checked (and no second error is reported about the block)."""
    out = dict(spec)
    if path == ("data",):
        out["data"] = {"x": [0.0], "y": [0.0]}
    elif len(path) == 3 and isinstance(out.get("checks"), list):
        out["checks"] = list(out["checks"])
        out["checks"][path[1]] = {**out["checks"][path[1]], "data": {"x": [0.0], "y": [0.0]}}
    return out


def _dedupe(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def _check_semantics(spec: AssignmentSpec, lines: dict, source: str) -> list[str]:
    """What the schema alone cannot say: unique ids, expression names, functions."""
    errors = []
    seen: set[str] = set()
    for i, check in enumerate(spec.checks):
        if check.id in seen:
            errors.append(f"{source}:{_line_for(lines, ('checks', i, 'id'))}: checks[{i}].id: "
                          f"duplicate check id {check.id!r}")
        seen.add(check.id)
    params = set(spec.model.params)
    allowed = {"forward": params | {"x"}, "loss": params | {"y_pred", "y"}}
    used: set[str] | None = set()
    for field, names in allowed.items():
        text = getattr(spec.model, field)
        line = _line_for(lines, ("model", field))
        try:
            compiled = compile_expression(text, names)
        except ExpressionError as exc:
            errors.append(f"{source}:{line}: model.{field}: {exc}")
            used = None
            continue
        if used is not None:
            used |= set(compiled.names)
        if field == "loss" and "y_pred" not in compiled.names:
            errors.append(f"{source}:{line}: model.loss: the loss never uses y_pred")
    # a parameter no expression uses has no gradient: torch leaves its .grad None, the reference a zero
    for name in [] if used is None else [p for p in spec.model.params if p not in used]:
        path = ("model", "params", name)
        errors.append(f"{source}:{_line_for(lines, path)}: {_field(path)}: declared but used in neither "
                      f"model.forward nor model.loss")
    if spec.functions.forward == spec.functions.loss:
        errors.append(f"{source}:{_line_for(lines, ('functions',))}: functions: forward and loss need different names")
    if not errors:  # the model compiles: try it on the data, the checks' inputs and the schedule
        errors += [f"{source}:{_line_for(lines, path)}: {_field(path)}: {message}"
                   for path, message in check_meaning(spec)]
    return errors


def load_spec(path: str | Path) -> AssignmentSpec:
    """Read and validate one assignment.yaml; its id must match its folder's name."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_SPEC_BYTES + 1)  # never more: the file may be huge
    except OSError as exc:
        raise SpecError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError([f"{path}: the spec is larger than {MAX_SPEC_BYTES // 1024} KB"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError([f"{path}: not UTF-8 text (byte {exc.start})"]) from None
    spec = parse_spec(text, str(path), path.parent)
    if path.name == SPEC_FILENAME and spec.id != path.parent.name:
        node = yaml.compose(text, Loader=_LineLoader)
        line = _line_for(_yaml_lines(node)[0], ("id",))
        raise SpecError([f"{path}:{line}: id: {spec.id!r} does not match its folder name {path.parent.name!r}"])
    return spec


def bundle_spec(path: str | Path) -> str:
    """The spec's text, self-contained: unchanged without data files; otherwise the spec re-written with
    each CSV's content under `text:`, so that parse_spec reads it without its folder (the service stores
    only this text). Raises SpecError as load_spec does."""
    path = Path(path)
    load_spec(path)
    text = path.read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    blocks = [raw.get("data")] + [c.get("data") for c in raw.get("checks") or [] if isinstance(c, dict)]
    blocks = [b for b in blocks if isinstance(b, dict) and "csv" in b and "text" not in b]
    if not blocks:
        return text
    for block in blocks:
        block["text"] = (path.parent / block["csv"]).read_text(encoding="utf-8")
    bundled = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=120)
    parse_spec(bundled, str(path))  # the bundle must say what the folder says
    return bundled


def spec_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def find_spec(assignments_dir: str | Path, assignment_id: str) -> Path:
    """The path of an assignment's spec; SpecError when the id is unknown or unsafe."""
    if not isinstance(assignment_id, str) or not SLUG.match(assignment_id):
        raise SpecError([f"{assignment_id!r} is not a valid assignment id{_known(assignments_dir)}"])
    path = Path(assignments_dir) / assignment_id / SPEC_FILENAME
    if not path.is_file():
        raise SpecError([f"unknown assignment {assignment_id!r}{_known(assignments_dir)}"])
    return path


def _known(assignments_dir: str | Path) -> str:
    known = sorted(p.parent.name for p in Path(assignments_dir).glob(f"*/{SPEC_FILENAME}"))
    return f" (known: {', '.join(known)})" if known else f" (no assignments under {assignments_dir})"
