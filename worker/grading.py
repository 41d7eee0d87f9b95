"""Grade a script end to end: plan → sandbox → parse the outcome → expected values → score.

The worker side of grading: grader owns the rules (plan, expected values, scoring, self-check) and never
imports this module; the grade task, `grader grade` and `grader assignments check` call it with a sandbox.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from grader import notebook as nb
from grader.expected import expected_for
from grader.messages import said
from grader.outcome import OutcomeError, RunReport, parse_outcome
from grader.plan import build_plan
from grader.source_text import MAX_SOURCE_BYTES
from grader.scoring import GradeResult, score
from grader.selfcheck import GradeScript
from grader.spec import AssignmentSpec
from worker.harness import available_modules  # stdlib only at import: the sandbox's module list, one home
from worker.sandbox.base import Job, Limits, Sandbox, SandboxResult

log = logging.getLogger(__name__)


def limits_for(spec: AssignmentSpec) -> Limits:
    """The sandbox's limits for one run: the spec's `limits`."""
    lim = spec.limits
    return Limits(wall_seconds=lim.wall_seconds, cpu_seconds=lim.cpu_seconds, memory_mb=lim.memory_mb,
                  output_kb=lim.output_kb)


def storable(text: str) -> str:
    """A job's output as text any database can hold: NUL, which PostgreSQL's text refuses, becomes U+FFFD."""
    return text.replace("\x00", "\ufffd")


def report_from(result: SandboxResult, limits: Limits) -> RunReport:
    """Parse what came out of the sandbox; a bad outcome becomes part of the report, never an exception."""
    try:
        outcome, error = parse_outcome(result.outcome_raw), None
    except OutcomeError as exc:
        outcome, error = None, exc.reason
    if result.outcome_truncated:
        outcome, error = None, said("outcome.over_limit")
    if outcome is not None and outcome.recorder_errors:  # a bug of ours, for the operator (the grade stands)
        log.warning("the harness's recorder failed: %s", "; ".join(outcome.recorder_errors))
    return RunReport(outcome=outcome, stdout=storable(result.stdout), stderr=storable(result.stderr),
                     outcome_error=error, timed_out=result.timed_out, wall_limit=limits.wall_seconds,
                     cpu_limit=limits.cpu_seconds,
                     signal=result.signal, exit_code=result.exit_code, wall_seconds=result.wall_seconds,
                     stdout_truncated=result.stdout_truncated)


def grade_source(spec: AssignmentSpec, source: str, sandbox: Sandbox, filename: str = "submission.py",
                 submitted_at: dt.datetime | None = None) -> tuple[GradeResult, RunReport]:
    """Run one script in the sandbox and score it."""
    limits = limits_for(spec)
    result = sandbox.run(Job(source=source, plan=build_plan(spec), filename=filename), limits)
    report = report_from(result, limits)
    return score(spec, expected_for(spec, report), report, submitted_at), report


def grade_notebook(spec: AssignmentSpec, text: str, sandbox: Sandbox, filename: str = "submission.ipynb",
                   submitted_at: dt.datetime | None = None) -> tuple[GradeResult, RunReport]:
    """Run a notebook's code cells as one program (grader.notebook) and score it as a script; every line the
    feedback names is a cell and a line in it, the output is split by cell (GradeResult.cell_starts)."""
    # accepted already, under the cap configured then: only a file the upload rules never saw is refused here
    notebook = nb.read_notebook(text, max(MAX_SOURCE_BYTES, len(text.encode("utf-8"))))
    where = nb.program(notebook)
    limits = limits_for(spec)
    result = sandbox.run(Job(source=where.source, plan=build_plan(spec), filename=filename), limits)
    report = report_from(result, limits)
    stdout, starts = nb.split_output(report.stdout, where)
    outcome = report.outcome
    if outcome is not None and outcome.error is not None and outcome.error.traceback:
        error = outcome.error.model_copy(update={"traceback": nb.locate_traceback(outcome.error.traceback, filename,
                                                                                  where)})
        outcome = outcome.model_copy(update={"error": error})
    report = dataclasses.replace(report, stdout=stdout, outcome=outcome)
    graded = score(spec, expected_for(spec, report), report, submitted_at)
    graded.checks = [dataclasses.replace(c, message=nb.locate(c.message, where),
                                         details=nb.locate_details(c.details, where)) for c in graded.checks]
    graded.diagnoses = ([nb.locate(d, where) for d in graded.diagnoses]
                        + nb.notebook_notes(notebook, where, available_modules()))
    graded.cell_starts = starts
    return graded, report


def grade_upload(spec: AssignmentSpec, source: str, sandbox: Sandbox, filename: str, notebook: str | None = None,
                 submitted_at: dt.datetime | None = None) -> tuple[GradeResult, RunReport]:
    """Grade what a student uploaded: the notebook when there is one, else the script."""
    if notebook is not None:
        return grade_notebook(spec, notebook, sandbox, filename, submitted_at)
    return grade_source(spec, source, sandbox, filename, submitted_at)


def script_grader(sandbox: Sandbox) -> GradeScript:
    """The self-check's way to grade a file: grade_source in this sandbox, on time."""
    return lambda spec, source, filename: grade_source(spec, source, sandbox, filename)[0]
