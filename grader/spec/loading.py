"""Loading a spec: YAML text (or an assignment folder) → a validated AssignmentSpec, or a SpecError naming the
file, line and field of every problem.

`parse_spec` validates without training the reference (every grade task and page parses the stored spec);
a spec entering the grader (`check_spec` for uploaded text, `load_spec` for a folder) is also trained once
(grader.spec.trial).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import ValidationError

from grader.messages import said
from grader.spec.data_files import CsvProblem, read_text, resolve_data_files
from grader.spec.problems import SpecError, SpecProblem, problem_at, validation_problems
from grader.spec.schema import SLUG, AssignmentSpec
from grader.spec.semantics import name_problems, raw_expression_problems
from grader.spec.trial import model_problems, reference_problems
from grader.spec.yaml_lines import FieldPath, LineLoader, YAMLRefusal, field_lines, field_name, line_for

MAX_SPEC_BYTES = 256 * 1024
SPEC_FILENAME = "assignment.yaml"


def _yaml(text: str, source: str):
    """The spec's root node and values; SpecError (with the line) when it is not YAML we accept."""
    if len(text.encode("utf-8", "replace")) > MAX_SPEC_BYTES:
        raise SpecError([SpecProblem(source, None, None, said("spec.too_large", kb=MAX_SPEC_BYTES // 1024))])
    try:
        loader = LineLoader(text)  # one parse gives both the lines (nodes) and the values
        try:
            node = loader.get_single_node()
            data = None if node is None else loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise SpecError([SpecProblem(source, mark.line + 1 if mark else None, None, _yaml_problem(exc))]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML never allows (NUL, a control character)
        line = text.count("\n", 0, exc.position) + 1
        raise SpecError([SpecProblem(source, line, None, said("spec.yaml_character", code=f"{exc.character:04X}"))
                         ]) from None
    except yaml.YAMLError as exc:
        raise SpecError([SpecProblem(source, None, None, said("spec.yaml_error", error=str(exc)))]) from None
    if data is None:
        raise SpecError([SpecProblem(source, 1, None, said("spec.empty"))])
    if not isinstance(data, dict):
        raise SpecError([SpecProblem(source, 1, None, said("spec.not_mapping"))])
    return node, data


def _yaml_problem(exc: yaml.MarkedYAMLError) -> dict:
    """What PyYAML (or our loader) refused, as a message; PyYAML's own words are its parameters."""
    if isinstance(exc, YAMLRefusal):
        return exc.message
    if "could not determine a constructor" in str(exc):
        return said("spec.yaml_tag", problem=(exc.problem or "").strip())
    if exc.problem and exc.context:  # e.g. "while parsing a flow sequence", where it began
        if exc.context_mark:
            return said("spec.yaml_in_context", problem=exc.problem, context=exc.context,
                        line=exc.context_mark.line + 1)
        return said("spec.yaml_with_context", problem=exc.problem, context=exc.context)
    if exc.problem or exc.context:
        return said("spec.yaml", problem=exc.problem or exc.context)
    return said("spec.yaml_invalid")


def _parse(text: str, source: str, base_dir: str | Path | None) -> tuple[AssignmentSpec, dict[FieldPath, int]]:
    """The validated spec and its field lines; SpecError with every problem found."""
    node, data = _yaml(text, source)
    lines, duplicates = field_lines(node)
    problems = [SpecProblem(source, line, field_name(path), message) for line, path, message in duplicates]
    data, file_problems = _with_data_files(data, lines, source, base_dir)
    problems += file_problems
    try:
        spec = AssignmentSpec.model_validate(data)
    except ValidationError as exc:
        problems += validation_problems(exc, lines, source)
        known = {p.field for p in problems if p.field}
        raise SpecError(problems + raw_expression_problems(data, lines, source, known)) from None
    if not file_problems:  # the model cannot be tried on data that did not load
        names = name_problems(spec, lines, source)
        problems += names
        if not names:  # the model compiles: try it on the data and the checks' inputs
            problems += [problem_at(source, lines, path, message) for path, message in model_problems(spec)]
    if problems:
        raise SpecError(problems)
    return spec, lines


def parse_spec(text: str, source: str = "<spec>", base_dir: str | Path | None = None) -> AssignmentSpec:
    """Validate spec text; raise SpecError with every problem found, each with file, line and field.
    The reference is not trained (see check_spec).

    Data files (`data: {csv: ...}`) are read from `base_dir`, the spec's folder (load_spec passes it),
    unless the spec carries their content inline (`text:`)."""
    return _parse(text, source, base_dir)[0]


def check_spec(text: str, source: str = "<spec>", base_dir: str | Path | None = None) -> AssignmentSpec:
    """parse_spec, and the reference trained once: small enough, and finite all the way. For a spec entering
    the grader (an upload, an assignment folder); a stored spec that passed it is only parsed."""
    spec, lines = _parse(text, source, base_dir)
    problems = [problem_at(source, lines, path, message) for path, message in reference_problems(spec)]
    if problems:
        raise SpecError(problems)
    return spec


def _with_data_files(data: dict, lines: dict, source: str, base_dir: str | Path | None
                     ) -> tuple[dict, list[SpecProblem]]:
    """The spec's mapping with every `{csv: ...}` data block replaced by the samples it names."""
    try:
        return resolve_data_files(data, None if base_dir is None else Path(base_dir)), []
    except CsvProblem as problem:
        if problem.validation is not None:
            return (_placeholder_data(data, problem.path),
                    validation_problems(problem.validation, lines, source, problem.path))
        path = problem.path + ((problem.field,) if problem.field else ())
        return _placeholder_data(data, problem.path), [problem_at(source, lines, path, problem.message)]


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


def _read(path: Path) -> str:
    """A spec file's text, read no further than the size cap (the file may be huge)."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise SpecError([SpecProblem(str(path), None, None, said("spec.cannot_read", error=str(exc.strerror or exc)))
                         ]) from None
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError([SpecProblem(str(path), None, None, said("spec.too_large", kb=MAX_SPEC_BYTES // 1024))])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError([SpecProblem(str(path), None, None, said("spec.not_text", byte=exc.start))]) from None


def _load(path: Path, train: bool) -> AssignmentSpec:
    text = _read(path)
    spec = (check_spec if train else parse_spec)(text, str(path), path.parent)
    if path.name == SPEC_FILENAME and spec.id != path.parent.name:
        line = line_for(field_lines(yaml.compose(text, Loader=LineLoader))[0], ("id",))
        raise SpecError([SpecProblem(str(path), line, "id", said("spec.id_not_folder", id=repr(spec.id),
                                                                 folder=repr(path.parent.name)))])
    return spec


def load_spec(path: str | Path) -> AssignmentSpec:
    """Read and check one assignment.yaml (the reference trained once); its id must match its folder's name."""
    return _load(Path(path), train=True)


def bundle_spec(path: str | Path) -> str:
    """The spec's text, self-contained: unchanged without data files; otherwise the spec re-written with
    each CSV's content under `text:`, so that parse_spec reads it without its folder (the service stores
    only this text). Raises SpecError as parse_spec does (the reference is not trained: load_spec does that)."""
    path = Path(path)
    _load(path, train=False)
    return bundle_text(path.read_text(encoding="utf-8"), path.parent, str(path))


def bundle_text(text: str, base_dir: Path, source: str = "<spec>") -> str:
    """bundle_spec of spec text whose data files lie in `base_dir` (an instructor's upload, with its files)."""
    raw = yaml.safe_load(text)
    blocks = [raw.get("data")] + [c.get("data") for c in raw.get("checks") or [] if isinstance(c, dict)]
    blocks = [b for b in blocks if isinstance(b, dict) and "csv" in b and "text" not in b]
    if not blocks:
        return text
    for block in blocks:
        block["text"] = read_text(block["csv"], base_dir)  # a .gz file's text, not its bytes
    bundled = yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=120)
    parse_spec(bundled, source)  # the bundle must say what the folder says
    return bundled


def spec_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def find_spec(assignments_dir: str | Path, assignment_id: str) -> Path:
    """The path of an assignment's spec; SpecError when the id is unknown or unsafe."""
    if not isinstance(assignment_id, str) or not SLUG.match(assignment_id):
        raise SpecError([_not_found(assignments_dir, assignment_id, valid=False)])
    path = Path(assignments_dir) / assignment_id / SPEC_FILENAME
    if not path.is_file():
        raise SpecError([_not_found(assignments_dir, assignment_id, valid=True)])
    return path


def _not_found(assignments_dir: str | Path, assignment_id, valid: bool) -> dict:
    """Why there is no spec for the id, with the ids there are (or the folder that has none)."""
    known = sorted(p.parent.name for p in Path(assignments_dir).glob(f"*/{SPEC_FILENAME}"))
    name = repr(assignment_id)
    if known:
        return (said("spec.unknown_assignment", id=name, known=", ".join(known)) if valid
                else said("spec.invalid_id", id=name, known=", ".join(known)))
    folder = str(assignments_dir)
    return (said("spec.unknown_assignment_none_known", id=name, folder=folder) if valid
            else said("spec.invalid_id_none_known", id=name, folder=folder))
