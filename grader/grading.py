"""Grade a script end to end: plan → sandbox → parse → reference → score."""
from __future__ import annotations

import datetime as dt
import functools

import numpy as np

from grader.outcome import OutcomeError, RunReport, parse_outcome
from grader.plan import build_plan, probe_points
from grader.reference import Problem, Schedule, gradients_at, predict, train
from grader.scoring import GradeResult, Reference, score
from grader.spec import AssignmentSpec
from worker.sandbox.base import Job, Limits, Sandbox, SandboxResult

MAX_SOURCE_BYTES = 200 * 1024


def problem_of(spec: AssignmentSpec) -> tuple[Problem, Schedule]:
    problem = Problem(forward=spec.model.forward, loss=spec.model.loss, params=dict(spec.model.params),
                      x=list(spec.data.x), y=list(spec.data.y))
    return problem, Schedule(lr=spec.training.lr, epochs=spec.training.epochs, batch=spec.training.batch)


@functools.lru_cache(maxsize=64)
def _reference_cached(spec_json: str) -> Reference:
    spec = AssignmentSpec.model_validate_json(spec_json)
    problem, schedule = problem_of(spec)
    run = train(problem, schedule)
    probes = []
    for p in probe_points(spec):
        grads = gradients_at(problem, {k: np.asarray(v, dtype=np.float64) for k, v in p["params"].items()}, p["x"], p["y"])
        probes.append({**p, "grads": grads})
    inputs = {float(x) for c in spec.checks if c.kind == "predictions" for x in c.inputs or []}
    predictions = {x: np.asarray(predict(problem, run.final_params, x)) for x in inputs}
    return Reference(problem, schedule, run, probes, predictions)


def reference_for(spec: AssignmentSpec) -> Reference:
    """The reference run for a spec, computed once per spec content."""
    return _reference_cached(spec.model_dump_json())


def limits_for(spec: AssignmentSpec) -> Limits:
    lim = spec.limits
    return Limits(wall_seconds=lim.wall_seconds, cpu_seconds=lim.cpu_seconds, memory_mb=lim.memory_mb,
                  output_kb=lim.output_kb)


def report_from(result: SandboxResult, limits: Limits) -> RunReport:
    """Parse what came out of the sandbox; a bad outcome becomes part of the report, never an exception."""
    try:
        outcome, error = parse_outcome(result.outcome_raw), None
    except OutcomeError as exc:
        outcome, error = None, str(exc)
    if result.outcome_truncated:
        outcome, error = None, "the report was larger than the limit"
    return RunReport(outcome=outcome, stdout=result.stdout, stderr=result.stderr, outcome_error=error,
                     timed_out=result.timed_out, wall_limit=limits.wall_seconds, signal=result.signal,
                     exit_code=result.exit_code, wall_seconds=result.wall_seconds,
                     stdout_truncated=result.stdout_truncated)


def grade_source(spec: AssignmentSpec, source: str, sandbox: Sandbox, filename: str = "submission.py",
                 submitted_at: dt.datetime | None = None) -> tuple[GradeResult, RunReport]:
    """Run one script in the sandbox and score it."""
    limits = limits_for(spec)
    result = sandbox.run(Job(source=source, plan=build_plan(spec), filename=filename), limits)
    report = report_from(result, limits)
    return score(spec, reference_for(spec), report, submitted_at), report


def safe_filename(name: str) -> str:
    """The script's name inside the sandbox: a plain basename ending in .py, else submission.py."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not base.endswith(".py") or base.startswith(".") or len(base) > 100 or "\x00" in base:
        return "submission.py"
    if not all(ch.isalnum() or ch in "._- " for ch in base):
        return "submission.py"
    return base
