"""`grader assignments check`: every spec valid, every solution full marks, every mistake caught.

A mistake file names what it must trigger in its first comment line: `# expect: mistake.no_zero_grad`
(a diagnosis code or a check message code, e.g. `runs.syntax_error`). The scripts are graded by a GradeScript
the caller passes (the worker's sandbox runs: worker.grading.script_grader); specs are loaded with the
reference trained (grader.spec.load_spec). What is wrong with a file is a message ("selfcheck.*" in
grader.messages), stored with the file in a dry run's result and rendered where it is shown.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from grader.i18n import DEFAULT_LANGUAGE, N_, gettext
from grader.messages import render, said
from grader.scoring import GradeResult
from grader.spec import SPEC_FILENAME, AssignmentSpec, SpecError, SpecProblem, load_spec

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
    problem: dict | None = None  # what is wrong with it, as a message (said(...)); None when it is as it should be
    failing: list[dict] = field(default_factory=list)  # the solution's failed checks: id, code, params

    def as_dict(self) -> dict:
        """As a dry run's result stores it."""
        return asdict(self)

    def problem_lines(self, lang: str, where: str = "") -> list[str]:
        """The problem, then each failed check of a solution, in `lang`; `where` goes before the file's name."""
        if self.problem is None:
            return []
        return [f"{where}{self.name}: {render(self.problem['code'], self.problem['params'], lang)}"] + [
            f"  {c.get('id', '')}: {render(c.get('code', ''), c.get('params'), lang)}" for c in self.failing]


def check_sources(spec: AssignmentSpec, solution: str | None, mistakes: list[tuple[str, str]],
                  grade: GradeScript) -> list[FileCheck]:
    """Grade a solution and mistakes (name, source) against a parsed spec: one result per file, each saying
    what is wrong with it, if anything."""
    files: list[FileCheck] = []
    if solution is None:
        files.append(FileCheck("solution.py", "solution", False, problem=said("selfcheck.solution_missing")))
    else:
        result = grade(spec, solution, "solution.py")
        item = FileCheck("solution.py", "solution", result.score >= spec.max_points, result.score, spec.max_points,
                         got=sorted(d.code for d in result.diagnoses))
        if not item.ok:
            item.failing = [{"id": c.id, **c.message.as_dict()} for c in result.checks if not c.passed]
            item.problem = said("selfcheck.solution_not_full", score=result.score, max=spec.max_points)
        files.append(item)
    for name, source in mistakes:
        code = expected_code(source)
        if code is None:
            item = FileCheck(f"mistakes/{name}", "mistake", False, problem=said("selfcheck.no_expect_line"))
        else:
            result = grade(spec, source, name)
            item = FileCheck(f"mistakes/{name}", "mistake", False, result.score, spec.max_points, code,
                             sorted(d.code for d in result.diagnoses))
            if result.score >= spec.max_points:
                item.problem = said("selfcheck.mistake_full_marks", code=code)
            elif code not in codes_of(result):
                item.problem = said("selfcheck.mistake_not_caught", code=code,
                                    found=", ".join(item.got) if item.got else said("selfcheck.no_diagnosis"))
            else:
                item.ok = True
        files.append(item)
    return files


def check_assignments(directory: Path, grade: GradeScript, echo: Callable[[str], None] = print,
                      lang: str = DEFAULT_LANGUAGE) -> list[str]:
    """Problems found, one line each, in `lang`; an empty list means every assignment is sound."""
    problems: list[str] = []
    paths = spec_paths(directory)
    if not paths:
        return [SpecProblem(str(directory), None, None, said("spec.no_specs")).text(lang)]
    for path in paths:
        try:
            spec = load_spec(path)
        except SpecError as exc:
            problems += exc.text_lines(lang)
            continue
        folder = path.parent
        solution = folder / "solution.py"
        mistakes = [(m.name, m.read_text("utf-8")) for m in sorted((folder / "mistakes").glob("*.py"))]
        files = check_sources(spec, solution.read_text("utf-8") if solution.is_file() else None, mistakes, grade)
        problems += [line for f in files for line in f.problem_lines(lang, where=f"{folder}/")]
        caught = sum(1 for f in files if f.kind == "mistake" and f.ok)
        echo(gettext(lang, N_("%(id)s: spec valid; solution checked; %(caught)s/%(mistakes)s mistakes caught"),
                     id=spec.id, caught=caught, mistakes=len(mistakes)))
    return problems
