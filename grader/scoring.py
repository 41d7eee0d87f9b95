"""Expected values × sandbox outcome → check results, points and diagnoses: grades every check of a spec with
its kind (grader.checks.kinds), adds the diagnoses, and takes off the late penalty (grader.lateness).

Rules, stated once (each check's module says how it shares out its points):
- A value matches when |got - expected| <= atol + rtol * |expected| for every element (NaN never matches).
- `runs` is all or nothing; `gradients`, `trace`, `final_params`, `predictions` and `function` earn the share
  of what matched; `accuracy` is all or nothing against its threshold.
- A check other than `runs` earns nothing when the script did not run (no outcome, or a syntax error), nor
  when the run stopped before it produced the check's evidence (grader.checks.stopped).
- Diagnoses are found outside the checks (grader.diagnosis).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from grader.checks.kinds import KINDS
from grader.checks.result import CheckResult, Finding
from grader.checks.stopped import unjudged
from grader.diagnosis import diagnose, run_notes
from grader.expected import Expected
from grader import lateness
from grader.messages import Message
from grader.outcome import RunReport
from grader.spec import AssignmentSpec


@dataclass
class GradeResult:
    assignment: str
    score: float
    max_score: float
    checks: list[CheckResult]
    diagnoses: list[Message]
    stdout: str
    stderr: str
    late_penalty: float = 0.0  # fraction taken off, 0.0–1.0
    status: str = "graded"
    cell_starts: list[tuple[int, int]] | None = None  # a notebook's: where each cell's output starts in stdout


def score(spec: AssignmentSpec, expected: Expected, report: RunReport,
          submitted_at: dt.datetime | None = None) -> GradeResult:
    """Grade one run. Pure: the same inputs always give the same result."""
    results: dict[str, CheckResult] = {}
    not_run = report.outcome is None or report.outcome.status == "syntax_error"
    for check in spec.checks:
        kind = KINDS[check.kind]
        unjudged_because = None if not_run else unjudged(kind.evidence, check, spec, expected, report)
        if not_run and kind.needs_run:
            found = Finding(False, 0.0, Message("check.not_run"))
        elif unjudged_because is not None:
            found = Finding(False, 0.0, unjudged_because)
        else:
            found = kind.grade(check, spec, expected, report)
        results[check.id] = CheckResult(check.id, check.kind, found.passed, found.points, check.points,
                                        found.message, check.visibility, found.details)
    diagnoses = diagnose(spec, expected, report, results) + run_notes(report, spec)
    penalty = lateness.penalty(spec.late, submitted_at, spec.deadline)  # the student's own: lateness.repriced
    raw = sum(r.points for r in results.values())
    return GradeResult(assignment=spec.id, score=lateness.priced(raw, penalty), max_score=spec.max_points,
                       checks=list(results.values()), diagnoses=diagnoses, stdout=report.stdout,
                       stderr=report.stderr, late_penalty=penalty)
