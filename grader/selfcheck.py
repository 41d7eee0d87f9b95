"""`grader assignments check`: every spec valid, every solution full marks, every mistake caught.

A mistake file names what it must trigger in its first comment line: `# expect: mistake.no_zero_grad`
(a diagnosis code or a check message code, e.g. `runs.syntax_error`).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

from grader.grading import grade_source
from grader.scoring import GradeResult
from grader.spec import SPEC_FILENAME, SpecError, load_spec
from worker.sandbox.base import Sandbox

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


def check_assignments(directory: Path, sandbox: Sandbox, echo: Callable[[str], None] = print) -> list[str]:
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
        if not solution.is_file():
            problems.append(f"{solution}: missing (every assignment ships a solution that scores full marks)")
        else:
            result, _ = grade_source(spec, solution.read_text("utf-8"), sandbox, "solution.py")
            if result.score < spec.max_points:
                failing = "; ".join(f"{c.id}: {c.message.render()}" for c in result.checks if not c.passed)
                problems.append(f"{solution}: scored {result.score:g}/{spec.max_points:g}, expected full marks ({failing})")
        mistakes = sorted((folder / "mistakes").glob("*.py"))
        caught = 0
        for mistake in mistakes:
            source = mistake.read_text("utf-8")
            code = expected_code(source)
            if code is None:
                problems.append(f"{mistake}:1: the first comment line must name the expected code (# expect: mistake.x)")
                continue
            result, _ = grade_source(spec, source, sandbox, mistake.name)
            if result.score >= spec.max_points:
                problems.append(f"{mistake}: scored full marks, but it is a mistake ({code})")
            elif code not in codes_of(result):
                got = ", ".join(sorted(d.code for d in result.diagnoses)) or "no diagnosis"
                problems.append(f"{mistake}: expected {code}, got {got}")
            else:
                caught += 1
        echo(f"{spec.id}: spec valid; solution checked; {caught}/{len(mistakes)} mistakes caught")
    return problems
