"""Grade a script end to end: plan → sandbox → parse → reference → score."""
from __future__ import annotations

import datetime as dt
import functools
import json
import unicodedata

import numpy as np

from grader.checks.compare import input_key
from grader.outcome import OutcomeError, RunReport, parse_outcome
from grader.plan import build_plan, function_probes, probe_points
from grader.reference import Problem, Schedule, gradients_at, loss_at, predict, train
from grader.scoring import GradeResult, Reference, score
from grader.spec import AssignmentSpec
from grader.spec_meaning import initial_params
from worker.sandbox.base import Job, Limits, Sandbox, SandboxResult

MAX_SOURCE_BYTES = 200 * 1024


def problem_of(spec: AssignmentSpec, student_init: dict | None = None) -> tuple[Problem, Schedule]:
    """The reference's problem and schedule; `init: student` parameters start at `student_init` (zeros if absent)."""
    params = {name: value.tolist() for name, value in initial_params(spec, student_init).items()}
    problem = Problem(forward=spec.model.forward, loss=spec.model.loss, params=params,
                      x=list(spec.data.x), y=list(spec.data.y))
    t = spec.training
    return problem, Schedule(lr=t.lr, epochs=t.epochs, batch=t.batch, optimizer=t.optimizer, momentum=t.momentum,
                             weight_decay=t.weight_decay, betas=tuple(t.betas), eps=t.eps)


@functools.lru_cache(maxsize=64)
def _probes_cached(spec_json: str) -> tuple[list[dict], list[dict]]:
    """The reference at the probe points (gradients and function checks): the same for every submission."""
    spec = AssignmentSpec.model_validate_json(spec_json)
    problem, _ = problem_of(spec)
    probes = []
    for p in probe_points(spec):
        grads = gradients_at(problem, {k: np.asarray(v, dtype=np.float64) for k, v in p["params"].items()}, p["x"], p["y"])
        probes.append({**p, "grads": grads})
    calls = []
    for p in function_probes(spec):
        params = {k: np.asarray(v, dtype=np.float64) for k, v in p["params"].items()}
        returns = next(c.returns for c in spec.checks if c.id == p["check"])
        if returns == "gradient":
            grads = gradients_at(problem, params, p["x"], p["y"])
            expected = [grads[name] for name in spec.model.params]
        elif returns == "loss":
            expected = [np.asarray(loss_at(problem, params, p["x"], p["y"]))]
        else:
            expected = [np.asarray(predict(problem, params, np.asarray(p["x"], dtype=np.float64)))]
        calls.append({**p, "expected": expected})
    return probes, calls


@functools.lru_cache(maxsize=256)
def _reference_cached(spec_json: str, student_init_json: str = "") -> Reference:
    spec = AssignmentSpec.model_validate_json(spec_json)
    student_init = {k: np.asarray(v, dtype=np.float64) for k, v in json.loads(student_init_json or "{}").items()}
    problem, schedule = problem_of(spec, student_init)
    run = train(problem, schedule)
    probes, calls = _probes_cached(spec_json)
    predictions = {input_key(item.x): np.asarray(predict(problem, run.final_params, np.asarray(item.x, dtype=np.float64)))
                   for c in spec.checks if c.kind == "predictions" for item in c.prediction_inputs}
    missing = [name for name in spec.model.student_init if name not in student_init]
    return Reference(problem, schedule, run, probes, predictions, function_probes=calls,
                     student_init_missing=missing)


def student_initial_values(spec: AssignmentSpec, report: RunReport | None) -> dict[str, list]:
    """The initial values of the `init: student` parameters, as the harness recorded them at the first
    backward() calls: only those of the spec's shape, finite."""
    found: dict[str, list] = {}
    outcome = report.outcome if report is not None else None
    if outcome is None:
        return found
    for name in spec.model.student_init:
        shape = spec.model.shape(name)
        for step in outcome.trace[:3]:
            value = step.values.get(name)
            array = None if value is None else value.array()
            if array is not None and array.size == int(np.prod(shape)) and np.all(np.isfinite(array)):
                found[name] = array.reshape(shape).tolist()
                break
    return found


def reference_for(spec: AssignmentSpec, report: RunReport | None = None) -> Reference:
    """The reference run for a spec, computed once per spec content. A spec with `init: student`
    parameters trains from the student's own initial values, read from `report` (cached per values)."""
    student_init = student_initial_values(spec, report) if spec.model.student_init else {}
    key = json.dumps(student_init, sort_keys=True) if student_init else ""
    return _reference_cached(spec.model_dump_json(), key)


def limits_for(spec: AssignmentSpec) -> Limits:
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
        outcome, error = None, str(exc)
    if result.outcome_truncated:
        outcome, error = None, "the report was larger than the limit"
    return RunReport(outcome=outcome, stdout=storable(result.stdout), stderr=storable(result.stderr),
                     outcome_error=error, timed_out=result.timed_out, wall_limit=limits.wall_seconds,
                     signal=result.signal, exit_code=result.exit_code, wall_seconds=result.wall_seconds,
                     stdout_truncated=result.stdout_truncated)


def grade_source(spec: AssignmentSpec, source: str, sandbox: Sandbox, filename: str = "submission.py",
                 submitted_at: dt.datetime | None = None) -> tuple[GradeResult, RunReport]:
    """Run one script in the sandbox and score it."""
    limits = limits_for(spec)
    result = sandbox.run(Job(source=source, plan=build_plan(spec), filename=filename), limits)
    report = report_from(result, limits)
    return score(spec, reference_for(spec, report), report, submitted_at), report


def safe_filename(name: str) -> str:
    """The script's name inside the sandbox: a plain basename ending in .py, else submission.py."""
    # NFC: a Mac uploads "résumé.py" with separate accent marks, which are not alphanumeric on their own
    base = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    if not base.endswith(".py") or base.startswith(".") or len(base) > 100 or "\x00" in base:
        return "submission.py"
    if not all(ch.isalnum() or ch in "._- " for ch in base):
        return "submission.py"
    if len(base.encode("utf-8")) > 255:  # the sandbox writes the file: NAME_MAX counts bytes, three per CJK character
        return "submission.py"
    return base
