"""`grader assignments check`: every spec valid, every solution full marks, every mistake caught.

A mistake file names what it must trigger in its first comment line: `# expect: mistake.no_zero_grad`
(a diagnosis code or a check message code, e.g. `runs.syntax_error`). The scripts are graded by a GradeScript
the caller passes (the worker's sandbox runs: worker.grading.script_grader); specs are loaded with the
reference trained (grader.spec.load_spec).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from grader.scoring import GradeResult
from grader.spec import SPEC_FILENAME, AssignmentSpec, SpecError, load_spec

# (spec, source, the file's name) → its grade, on time: how a self-check runs one script
GradeScript = Callable[[AssignmentSpec, str, str], GradeResult]

EXPECT = re.compile(r"^\s*#\s*expect:\s*([a-z_]+\.[a-z_]+)\s*$")


def expected_code(source: str) -> str | None:
    """The code named by the first comment line, if any."""
    for line in source.splitlines():
        if line.strip().startswith("#"):
            m = EXPECT.match(line)
            return m.group(1) if m else None
    return None


def codes_of(result: GradeResult) -> set[str]:
    return {d.code for d in result.diagnoses} | {c.message.code for c in result.checks}


def spec_paths(directory: Path) -> list[Path]:
    if (directory / SPEC_FILENAME).is_file():
        return [directory / SPEC_FILENAME]
    return sorted(directory.glob(f"*/{SPEC_FILENAME}"))


@dataclass
class FileCheck:
    """One file of a self-check: the solution (must score full marks) or a mistake (must be caught)."""

    name: str
    kind: str  # "solution" | "mistake"
    ok: bool
    score: float | None = None
    max_score: float | None = None
    expected: str | None = None  # a mistake's expected code
    got: list[str] = field(default_factory=list)  # its diagnosis codes
    problem: str = ""
    failing: list[dict] = field(default_factory=list)  # the solution's failed checks: id, code, params

    def as_dict(self) -> dict:
        """As a dry run's result stores it (the instructor's page says each problem from these fields)."""
        return asdict(self)


def check_sources(spec: AssignmentSpec, solution: str | None, mistakes: list[tuple[str, str]], grade: GradeScript,
                  where: str = "") -> tuple[list[str], list[FileCheck]]:
    """Grade a solution and mistakes (name, source) against a parsed spec: (problem lines, per-file results).
    `where` prefixes file names in the problem lines (the assignment's folder)."""
    problems: list[str] = []
    files: list[FileCheck] = []
    if solution is None:
        problem = f"{where}solution.py: missing (every assignment ships a solution that scores full marks)"
        problems.append(problem)
        files.append(FileCheck("solution.py", "solution", False, problem=problem))
    else:
        result = grade(spec, solution, "solution.py")
        item = FileCheck("solution.py", "solution", result.score >= spec.max_points, result.score, spec.max_points,
                         got=sorted(d.code for d in result.diagnoses))
        if not item.ok:
            item.failing = [{"id": c.id, **c.message.as_dict()} for c in result.checks if not c.passed]
            failing = "; ".join(f"{c.id}: {c.message.render()}" for c in result.checks if not c.passed)
            item.problem = (f"{where}solution.py: scored {result.score:g}/{spec.max_points:g}, expected full marks "
                            f"({failing})")
            problems.append(item.problem)
        files.append(item)
    for name, source in mistakes:
        code = expected_code(source)
        label = f"{where}mistakes/{name}"
        if code is None:
            item = FileCheck(f"mistakes/{name}", "mistake", False,
                             problem=f"{label}:1: the first comment line must name the expected code (# expect: mistake.x)")
        else:
            result = grade(spec, source, name)
            item = FileCheck(f"mistakes/{name}", "mistake", False, result.score, spec.max_points, code,
                             sorted(d.code for d in result.diagnoses))
            if result.score >= spec.max_points:
                item.problem = f"{label}: scored full marks, but it is a mistake ({code})"
            elif code not in codes_of(result):
                item.problem = f"{label}: expected {code}, got {', '.join(item.got) or 'no diagnosis'}"
            else:
                item.ok = True
        if item.problem:
            problems.append(item.problem)
        files.append(item)
    return problems, files


def check_assignments(directory: Path, grade: GradeScript, echo: Callable[[str], None] = print) -> list[str]:
    """Problems found, one line each; an empty list means every assignment is sound."""
    problems: list[str] = []
    paths = spec_paths(directory)
    if not paths:
        return [f"{directory}: no */{SPEC_FILENAME} found"]
    for path in paths:
        try:
            spec = load_spec(path)
        except SpecError as exc:
            problems += exc.lines
            continue
        folder = path.parent
        solution = folder / "solution.py"
        mistakes = [(m.name, m.read_text("utf-8")) for m in sorted((folder / "mistakes").glob("*.py"))]
        found, files = check_sources(spec, solution.read_text("utf-8") if solution.is_file() else None, mistakes,
                                     grade, where=f"{folder}/")
        problems += found
        caught = sum(1 for f in files if f.kind == "mistake" and f.ok)
        echo(f"{spec.id}: spec valid; solution checked; {caught}/{len(mistakes)} mistakes caught")
    return problems
