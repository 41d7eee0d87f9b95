"""The student's own run as every check and diagnosis reads it, computed once per report: the verdict of each
recorded step (grader.own_run; by hand, each call of the gradient function is a step: Outcome.as_trained), the protocol of each training run (grader.protocol), the facets of the graded
run (the last: its parameters are the ones left at the end) against the spec (grader.facets), and the
reference run that final parameters and predictions are held against.

That reference is the spec's own run, except for facets the student may choose: those in `training.free`, and
every facet when the spec grades the facets in a `training` check (a deviation then costs that check's points
once, and the final parameters show whether the training the student chose was carried out right). Such a run
is replayed with the student's choices, from the graded run's own initial values of `init: student` parameters.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from grader.expected import Expected
from grader.facets import compare, graded_facets, own_data
from grader.messages import Message
from grader.outcome import RunReport
from grader.own_run import StepVerdict, StepVerifier, verify_steps
from grader.protocol import RunProtocol, run_protocols
from grader.reference import ReferenceRun, predict, train
from grader.spec import AssignmentSpec

_CACHE_SIZE = 8
# a longer run of the student's is held against the spec's epochs: the reference takes ~0.3 ms a step
MAX_REPLAY_STEPS = 10_000
NORMALISED_STEPS = {"adam", "adamw", "adamax", "rmsprop", "rprop"}  # an update of about lr, whatever the gradient


@dataclass
class StudentRun:
    verdicts: list[StepVerdict]
    protocols: list[RunProtocol]
    facets: dict[str, bool | None] = field(default_factory=dict)  # the graded run's, as grader.facets says
    deviations: list[Message] = field(default_factory=list)
    replayed: ReferenceRun | None = None  # the reference with the student's own choices, when they differ

    @property
    def graded(self) -> RunProtocol | None:
        return self.protocols[-1] if self.protocols else None


_cache: list[tuple[int, RunReport, StudentRun | None]] = []


def trace_tolerance(spec: AssignmentSpec) -> tuple[float, float]:
    trace = next((c for c in spec.checks if c.kind == "trace"), None)
    return (trace.rtol, trace.atol) if trace else (1e-4, 1e-5)


def student_run(spec: AssignmentSpec, expected: Expected, report: RunReport) -> StudentRun | None:
    """The judged run of one report (None when nothing was recorded); computed once per report."""
    for key, held, run in _cache:
        if held is report and key == id(spec):
            return run
    run = _judge(spec, expected, report)
    _cache.append((id(spec), report, run))
    del _cache[:-_CACHE_SIZE]
    return run


def _judge(spec: AssignmentSpec, expected: Expected, report: RunReport) -> StudentRun | None:
    o = report.outcome.as_trained(spec.training.autograd) if report.outcome is not None else None
    if o is None or not o.trace:
        return None
    params = list(spec.model.params)
    shapes = {name: spec.model.shape(name) for name in params}
    verifier = StepVerifier(expected.problem, shapes, *trace_tolerance(spec), reference=expected.run)
    verdicts = verify_steps(verifier, o)
    protocols = run_protocols(o, verdicts, params, len(spec.data.x))
    judged = StudentRun(verdicts, protocols)
    for protocol in protocols:
        if own_data(o, protocol) is not None:  # steps on the student's own samples cannot be verified on the
            protocol.steps_per_epoch, protocol.order = None, None  # assignment's, nor counted in its epochs
            for verdict in verdicts:
                if verdict.run == protocol.run and verdict.status in ("wrong", "accumulated"):
                    verdict.status = "unverifiable"
    if judged.graded is not None:
        judged.facets, judged.deviations = compare(spec, o, judged.graded)
        judged.replayed = _replay(spec, expected, judged)
    return judged


def _students_choices(spec: AssignmentSpec) -> set[str]:
    """Facets replayed as the student chose: the free ones and those a training check grades."""
    graded = {f for c in spec.checks if c.kind == "training" for f in graded_facets(c.facets, spec)}
    return graded | set(spec.training.free)


def _replay(spec: AssignmentSpec, expected: Expected, judged: StudentRun) -> ReferenceRun | None:
    """The reference trained with the student's choices where they may choose (None: the spec's run stands)."""
    run = judged.graded
    own = {f for f in _students_choices(spec) if judged.facets.get(f, True) is False or f in spec.training.free}
    schedule = expected.schedule
    changes: dict = {}
    rule = run.rule
    if (own & {"optimizer", "lr", "momentum"} and rule.optimizer is not None and rule.in_turn is None
            and rule.lr is not None and rule.lr > 0):  # optimizers in turn: no one rule to replay
        changes.update(optimizer=rule.optimizer, lr=rule.lr, momentum=rule.momentum if rule.optimizer == "sgd" else 0.0,
                       nesterov=rule.nesterov, weight_decay=rule.weight_decay, lr_steps=tuple(rule.lr_steps or ()))
    if ("epochs" in own and isinstance(run.epochs, int) and run.epochs >= 1
            and run.epochs * (run.steps_per_epoch or 1) <= MAX_REPLAY_STEPS):
        changes["epochs"] = run.epochs
    order = None
    if "batch" in own and run.samples_per_step is not None:
        samples = len(spec.data.x)
        changes["batch"] = ("per-sample" if run.single else "full" if run.samples_per_step == samples
                            else run.samples_per_step)
    if run.shuffled and run.order is not None and run.steps_per_epoch:
        order = [(rows, judged.verdicts[run.first_call + k].single) for k, rows in enumerate(run.order)]
    initial = _initial(spec, expected, run)
    if not changes and order is None and initial is None:
        return None
    if "epochs" not in changes and order is not None and len(order) != run.steps_per_epoch * schedule.epochs:
        order = None  # the student's order covers another number of epochs than the one replayed
    if changes.get("epochs") and order is not None and len(order) != run.steps_per_epoch * changes["epochs"]:
        order = None
    schedule = dataclasses.replace(schedule, **changes) if changes else schedule
    problem = expected.problem if initial is None else dataclasses.replace(expected.problem, params=initial)
    try:
        with np.errstate(all="ignore"):
            return train(problem, schedule, order=order)
    except (ValueError, ArithmeticError):
        return None


def _initial(spec: AssignmentSpec, expected: Expected, run: RunProtocol) -> dict | None:
    """The graded run's own initial values of `init: student` parameters, when they differ from those the
    spec's reference started from (a script that trains several times is graded on its last run)."""
    if not spec.model.student_init or run.initial is None:
        return None
    params = {name: np.asarray(v, dtype=np.float64).tolist() for name, v in expected.problem.params.items()}
    changed = False
    for name in spec.model.student_init:
        if run.initial[name].size != int(np.prod(spec.model.shape(name))):
            return None  # another model than the spec's (an extra layer): nothing to replay from
        value = run.initial[name].reshape(spec.model.shape(name))
        if not np.array_equal(value, np.asarray(params[name], dtype=np.float64)):
            params[name], changed = value.tolist(), True
    return params if changed else None


def judged_final_params(spec: AssignmentSpec, expected: Expected, report: RunReport) -> dict[str, np.ndarray]:
    """The final parameters the student's are held against (see the module's rule)."""
    judged = student_run(spec, expected, report)
    if judged is None or judged.replayed is None:
        return expected.run.final_params
    return judged.replayed.final_params


def replay_atol(spec: AssignmentSpec, expected: Expected, report: RunReport) -> float:
    """An absolute tolerance for final parameters held against a replay with an optimizer whose step has the size
    of lr wherever it is (Adam and its kin, RMSprop, Rprop): near the minimum such a run oscillates by about one
    step, and the student's float32 run and the float64 replay oscillate out of phase. 0 otherwise."""
    judged = student_run(spec, expected, report)
    if judged is None or judged.replayed is None or judged.graded.rule.optimizer not in NORMALISED_STEPS:
        return 0.0
    return abs(judged.graded.rule.lr or 0.0)


def judged_prediction(spec: AssignmentSpec, expected: Expected, report: RunReport, x, key) -> np.ndarray:
    """The prediction at `x` the student's is held against (see the module's rule)."""
    judged = student_run(spec, expected, report)
    if judged is None or judged.replayed is None:
        return expected.predictions[key]
    return np.asarray(predict(expected.problem, judged.replayed.final_params, np.asarray(x, dtype=np.float64)))

