"""The expected values: what the reference computes for a spec, and what it needs from the spec to compute it.

Everything the reference takes from a spec is read here (the problem and schedule, the initial values, the
first batch, the `init: student` values from the student's first backward() calls), and everything it
computes for grading is cached here, once per spec content: the reference run, the gradients at the probe
points, the function checks' answers and the predictions. None of it ever enters the sandbox.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from grader.checks.compare import input_key
from grader.plan import function_probes, probe_points
from grader.reference import Problem, ReferenceRun, Schedule, Variant, gradients_at, loss_at, predict, train

if TYPE_CHECKING:  # types only: grader.spec's trial reads the spec through this module
    from grader.outcome import RunReport
    from grader.spec import AssignmentSpec


def initial_params(spec: AssignmentSpec, student: dict | None = None) -> dict[str, np.ndarray]:
    """Each parameter's initial value: the spec's, or for `init: student` the student's (zeros when not given)."""
    out = {}
    for name in spec.model.params:
        value = spec.model.initial(name)
        if value is None:
            given = (student or {}).get(name)
            value = given if given is not None else np.zeros(spec.model.shape(name))
        out[name] = np.asarray(value, dtype=np.float64)
    return out


def first_batch(spec: AssignmentSpec) -> tuple[np.ndarray, np.ndarray]:
    """The x and y of the schedule's first backward(): one sample, a mini-batch or all samples."""
    x, y = np.asarray(spec.data.x, dtype=np.float64), np.asarray(spec.data.y, dtype=np.float64)
    batch = spec.training.batch
    if batch == "per-sample":
        return x[0], y[0]
    if batch == "full":
        return x, y
    return x[:batch], y[:batch]


def schedule_of(spec: AssignmentSpec) -> Schedule:
    """The reference's training schedule: the spec's `training`."""
    t = spec.training
    return Schedule(lr=t.lr, epochs=t.epochs, batch=t.batch, optimizer=t.optimizer, momentum=t.momentum,
                    nesterov=t.nesterov, weight_decay=t.weight_decay, betas=tuple(t.betas), eps=t.eps)


def problem_of(spec: AssignmentSpec, student_init: dict | None = None) -> tuple[Problem, Schedule]:
    """The reference's problem and schedule; `init: student` parameters start at `student_init` (zeros if absent)."""
    params = {name: value.tolist() for name, value in initial_params(spec, student_init).items()}
    problem = Problem(forward=spec.model.forward, loss=spec.model.loss, params=params,
                      x=list(spec.data.x), y=list(spec.data.y))
    return problem, schedule_of(spec)


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


@dataclass
class Expected:
    """Everything a submission is graded against, which the student must never see."""

    problem: Problem
    schedule: Schedule
    run: ReferenceRun
    probes: list[dict]  # {"params", "x", "y", "check", "grads"}
    predictions: dict[float | str, np.ndarray]  # by grader.checks.compare.input_key of the input
    variants: dict[Variant, ReferenceRun] = field(default_factory=dict)
    # {"params", "args", "check", "expected": [arrays]}, and for a gradient over several samples "per_sample": each
    # sample's own expected arrays
    function_probes: list[dict] = field(default_factory=list)
    student_init_missing: list[str] = field(default_factory=list)  # init: student params whose values were not read

    def variant_run(self, variant: Variant, keep: bool = True) -> ReferenceRun:
        """The run of a known mistake, kept for the next submission unless `keep` is False: a variant made
        from one student's run (their estimated learning rate) would otherwise pile up in a long-lived worker."""
        if not keep:
            return self.variants.get(variant) or train(self.problem, self.schedule, variant)
        if variant not in self.variants:
            self.variants[variant] = train(self.problem, self.schedule, variant)
        return self.variants[variant]

    def full_batch_run(self, reduce: str) -> ReferenceRun | None:
        """The run of a student who sums (or averages) the loss over all samples and updates once per
        epoch; None when the loss cannot be reduced that way."""
        key = Variant(code=f"mistake.full_batch_{reduce}")
        if key not in self.variants:
            problem = dataclasses.replace(self.problem, loss=f"{reduce}({self.problem.loss})")
            schedule = dataclasses.replace(self.schedule, batch="full")
            try:
                self.variants[key] = train(problem, schedule)
            except (ValueError, ArithmeticError):
                self.variants[key] = None
        return self.variants[key]


class _SpecKey:
    """A spec as a cache key: equal to another when their JSON is (pydantic models do not hash)."""

    def __init__(self, spec: AssignmentSpec):
        self.spec, self.json = spec, spec.model_dump_json()

    def __hash__(self) -> int:
        return hash(self.json)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SpecKey) and other.json == self.json


@functools.lru_cache(maxsize=64)
def _probes_cached(key: _SpecKey) -> tuple[list[dict], list[dict]]:
    """The reference at the probe points (gradients and function checks): the same for every submission."""
    spec = key.spec
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
            if isinstance(p["x"], list) and len(p["x"]) > 1:  # each sample's own: a function that picks one of them
                p = {**p, "per_sample": [[gradients_at(problem, params, [x], [y])[name] for name in spec.model.params]
                                         for x, y in zip(p["x"], p["y"])]}
        elif returns == "loss":
            expected = [np.asarray(loss_at(problem, params, p["x"], p["y"]))]
        else:
            expected = [np.asarray(predict(problem, params, np.asarray(p["x"], dtype=np.float64)))]
        calls.append({**p, "expected": expected})
    return probes, calls


@functools.lru_cache(maxsize=256)
def _expected_cached(key: _SpecKey, student_init_json: str = "") -> Expected:
    spec = key.spec
    student_init = {k: np.asarray(v, dtype=np.float64) for k, v in json.loads(student_init_json or "{}").items()}
    problem, schedule = problem_of(spec, student_init)
    run = train(problem, schedule)
    probes, calls = _probes_cached(key)
    predictions = {input_key(item.x): np.asarray(predict(problem, run.final_params, np.asarray(item.x, dtype=np.float64)))
                   for c in spec.checks if c.kind == "predictions" for item in c.prediction_inputs}
    missing = [name for name in spec.model.student_init if name not in student_init]
    return Expected(problem, schedule, run, probes, predictions, function_probes=calls, student_init_missing=missing)


def expected_for(spec: AssignmentSpec, report: RunReport | None = None) -> Expected:
    """The expected values of a spec, computed once per spec content. A spec with `init: student`
    parameters trains from the student's own initial values, read from `report` (cached per values)."""
    student_init = student_initial_values(spec, report) if spec.model.student_init else {}
    key = json.dumps(student_init, sort_keys=True) if student_init else ""
    return _expected_cached(_SpecKey(spec), key)


def expected_cache_hits() -> int:
    """How many lookups this process's expected-values cache answered without computing (for metrics)."""
    return _expected_cached.cache_info().hits
