"""The student's own run as every check and diagnosis reads it, computed once per report: the verdict of each
recorded step (grader.own_run; by hand, each call of the gradient function is a step: Outcome.as_trained), the
protocol of each training run (grader.protocol), the facets of the graded run (the last that trains the
assignment's model: its parameters are the ones left at the end) against the spec (grader.facets), and the
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

from grader.checks.compare import matches
from grader.expected import Expected
from grader.facets import clipped, compare, graded_facets, own_data
from grader.messages import Message
from grader.outcome import Outcome, RunReport
from grader.own_run import VERIFY_STEPS, StepVerdict, StepVerifier, own_targets, verify_steps
from grader.protocol import RunProtocol, run_protocols
from grader.reference import LBFGSSettings, ReferenceRun, predict, train, train_lbfgs
from grader.spec import AssignmentSpec

_CACHE_SIZE = 8
# a longer run of the student's is replayed this far, and stands for the whole run only where it converged by then
# (else it is held against the spec's epochs). The reference takes 0.15-0.6 ms a step on the shipped assignments
# (the 8-6-4-1 network on its full batch the most): 10,000 epochs of lecture 4's three samples, a common homework,
# replay in about 5 s
MAX_REPLAY_STEPS = 30_000
NORMALISED_STEPS = {"adam", "adamw", "adamax", "rmsprop", "rprop"}  # an update of about lr, whatever the gradient


@dataclass
class StudentRun:
    verdicts: list[StepVerdict]
    protocols: list[RunProtocol]
    facets: dict[str, bool | None] = field(default_factory=dict)  # the graded run's, as grader.facets says
    deviations: list[Message] = field(default_factory=list)
    replayed: ReferenceRun | None = None  # the reference with the student's own choices, when they differ
    own_end: bool = False  # `replayed` is the student's own recorded run's end: their choices cannot be replayed
    outcome: Outcome | None = None  # the outcome the verdicts index: the training's steps (Outcome.without_side_runs)
    graded: RunProtocol | None = None  # the run that trains the assignment's model (Outcome.graded_run)
    unapplied: list = field(default_factory=list)  # steps after the training no update followed (TraceStep)


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
    params = list(spec.model.params)
    o = report.outcome.as_trained(spec.training.autograd) if report.outcome is not None else None
    if o is None or not o.trace:
        return None
    o, unapplied = o.without_side_runs(params).without_unapplied_steps(params)
    shapes = {name: spec.model.shape(name) for name in params}
    verifier = StepVerifier(expected.problem, shapes, *trace_tolerance(spec), reference=expected.run)
    verdicts = verify_steps(verifier, o)
    protocols = run_protocols(o, verdicts, params, len(spec.data.x))
    graded = o.graded_run(params)
    judged = StudentRun(verdicts, protocols, outcome=o,
                        graded=next((p for p in protocols if p.run == graded), protocols[-1] if protocols else None),
                        unapplied=unapplied)
    for protocol in protocols:
        if own_data(o, protocol) is not None:  # steps on the student's own samples cannot be verified on the
            protocol.steps_per_epoch, protocol.order = None, None  # assignment's, nor counted in its epochs
            for verdict in verdicts:
                if verdict.run == protocol.run and (verdict.status in ("wrong", "accumulated")
                                                    or verdict.targets is not None):
                    verdict.status, verdict.targets = "unverifiable", None
        else:  # the assignment's inputs: targets of the student's own are the data facet's (grader.facets)
            protocol.targets = own_targets(verdicts, protocol.run)
    if judged.graded is not None:
        judged.facets, judged.deviations = compare(spec, o, judged.graded)
        judged.replayed = _replay(spec, expected, judged)
        if _unreplayable_choice(spec, judged):
            # LBFGS too, though replayed: a float32 LBFGS run drifts from the float64 replay beyond the params'
            # tolerance over a long run (a logistic regression's 1000 evaluations: w 19.203 against 19.1821)
            # while every step of it is right; its own verified end is then what it is held against
            own_end = _own_end(spec, judged)
            if own_end is not None or judged.replayed is None or judged.graded.rule.optimizer is None:
                judged.replayed, judged.own_end = own_end, own_end is not None
        elif judged.replayed is not None and judged.graded.rule.optimizer in NORMALISED_STEPS:
            _end_where_float32_went(spec, judged, report)
    return judged


def _end_where_float32_went(spec: AssignmentSpec, judged: StudentRun, report: RunReport) -> None:
    """An optimizer that steps by about lr whatever the gradient (Adam, RMSprop, Rprop) follows the signs of
    float32's rounding once the gradients fall below it, where the float64 replay follows its own: a verified run
    that ends far from the replay but where its own trace ends is held against that end instead."""
    final, own = _student_final(spec, report), _own_end(spec, judged)
    if final is None or own is None:
        return
    lr = abs(judged.graded.rule.lr or 0.0)
    step = _last_update_tolerance(judged.graded)
    if not _within(final, judged.replayed.final_params, lr, spec) and _within(final, own.final_params, step, spec):
        judged.replayed, judged.own_end = own, True


def _within(got: dict, want: dict, atol: float, spec: AssignmentSpec) -> bool:
    """Whether final parameters match as the final-parameters check holds them (its rtol, at least atol)."""
    check = next((c for c in spec.checks if c.kind == "final_params"), None)
    rtol, check_atol = (check.rtol, check.atol) if check is not None else (1e-3, 1e-4)
    return all(matches(want[n], got[n], rtol, max(atol, check_atol)) for n in want)


def _students_choices(spec: AssignmentSpec) -> set[str]:
    """Facets replayed as the student chose: the free ones and those a training check grades."""
    graded = {f for c in spec.checks if c.kind == "training" for f in graded_facets(c.facets, spec)}
    return graded | set(spec.training.free)


def _replayed_choices(spec: AssignmentSpec, judged: StudentRun) -> set[str]:
    """The facets a replay takes as the student chose them: those they chose otherwise, and the free ones."""
    return {f for f in _students_choices(spec) if judged.facets.get(f, True) is False or f in spec.training.free}


def _replay(spec: AssignmentSpec, expected: Expected, judged: StudentRun) -> ReferenceRun | None:
    """The reference trained with the student's choices where they may choose (None: the spec's run stands)."""
    run = judged.graded
    own = _replayed_choices(spec, judged)
    if run.rule.optimizer == "lbfgs":
        return _replay_lbfgs(spec, expected, judged) if own & {"optimizer", "lr"} else None
    if "data" in own and run.subset is not None:
        return _replay_on_subset(spec, expected, judged, own)
    if "data" in own:  # a data set of the student's own, whole at every step (else targets of their own, below)
        on_own_data = _replay_on_own_data(spec, expected, judged, own)
        if on_own_data is not None:
            return on_own_data
    schedule = expected.schedule
    changes: dict = {}
    rule = run.rule
    changes.update(_optimizer_changes(rule, own))
    beyond = False  # a run longer than the replay: replayed as far as it may be, standing only where it converged
    if "epochs" in own and isinstance(run.epochs, int) and run.epochs >= 1:
        most = MAX_REPLAY_STEPS // (run.steps_per_epoch or 1)
        if run.epochs <= most:
            changes["epochs"] = run.epochs
        elif most >= 2:
            changes["epochs"], beyond = most, True
    order = None
    if "batch" in own and run.samples_per_step is not None:
        samples = len(spec.data.x)
        changes["batch"] = ("per-sample" if run.single else "full" if run.samples_per_step == samples
                            else run.samples_per_step)
    if run.shuffled and run.order is not None and run.steps_per_epoch:
        # verdicts hold the verified steps only (VERIFY_STEPS a run): found by their call, not their place
        verdict_at = {v.index: v for v in judged.verdicts}
        order = [(rows, verdict_at[run.first_call + k].single) for k, rows in enumerate(run.order)]
    initial = _initial(spec, expected, run)
    targets = _own_targets(expected, run) if "data" in own else None
    if not changes and order is None and initial is None and targets is None:
        return None
    if "epochs" not in changes and order is not None and len(order) != run.steps_per_epoch * schedule.epochs:
        order = None  # the student's order covers another number of epochs than the one replayed
    if changes.get("epochs") and order is not None and len(order) != run.steps_per_epoch * changes["epochs"]:
        order = None
    schedule = dataclasses.replace(schedule, **changes) if changes else schedule
    problem = expected.problem if initial is None else dataclasses.replace(expected.problem, params=initial)
    problem = problem if targets is None else dataclasses.replace(problem, y=targets)
    try:
        with np.errstate(all="ignore"):
            replayed = train(problem, schedule, order=order)
    except (ValueError, ArithmeticError):
        return None
    return replayed if not beyond or _converged(replayed) else None


def _converged(run: ReferenceRun) -> bool:
    """Whether a run's last epoch left its parameters where they were (within float64 rounding): more epochs of
    it would end at the same values."""
    if len(run.epoch_params) < 2:
        return False
    last, before = run.epoch_params[-1], run.epoch_params[-2]
    return all(np.allclose(np.asarray(last[n], dtype=np.float64), np.asarray(before[n], dtype=np.float64),
                           rtol=1e-12, atol=1e-12) for n in last)


def _optimizer_changes(rule, own: set[str]) -> dict:
    """The Schedule fields of the student's update rule, where optimizer, lr or momentum are theirs to choose."""
    if not (own & {"optimizer", "lr", "momentum"} and rule.optimizer is not None and rule.in_turn is None
            and rule.lr is not None and rule.lr > 0):  # optimizers in turn: no one rule to replay
        return {}
    return dict(optimizer=rule.optimizer, lr=rule.lr, momentum=rule.momentum if rule.optimizer == "sgd" else 0.0,
                nesterov=rule.nesterov, weight_decay=rule.weight_decay, lr_steps=tuple(rule.lr_steps or ()))


def _last_update_tolerance(run: RunProtocol) -> float:
    """Twice the run's last recorded update: the last update, unrecorded, moves its end by about as much."""
    last, before = run.last
    return 2.0 * max(float(np.max(np.abs(last[n] - before[n]), initial=0.0)) for n in last)


def _unreplayable_choice(spec: AssignmentSpec, judged: StudentRun) -> bool:
    """Whether the student chose, where the spec lets them, an optimizer the reference cannot replay: one none of
    its update rules fits (declared by the script: NAdam, LBFGS with a line search), LBFGS (replayed, but a long
    float32 run of it drifts from the replay), any optimizer on clipped gradients, or an lr of each param group."""
    run = judged.graded
    own = _students_choices(spec)
    chosen = "optimizer" in own and (judged.facets.get("optimizer") is False or "optimizer" in spec.training.free)
    unreplayable = run.rule.optimizer is None and run.declared is not None or run.rule.optimizer == "lbfgs"
    grouped = run.declared is not None and len(set(run.declared.group_lrs)) > 1  # an lr per param group
    lr_chosen = "lr" in own and (judged.facets.get("lr") is False or "lr" in spec.training.free)
    # the reference has no gradient clipping, and one lr for every parameter
    return (chosen and (unreplayable or clipped(run))) or (lr_chosen and grouped)


def _own_end(spec: AssignmentSpec, judged: StudentRun) -> ReferenceRun | None:
    """The graded run's own end as its trace recorded it, when every step of it was verified right: final
    parameters are then held against where the student's own (verified) training arrived."""
    run = judged.graded
    steps = [v for v in judged.verdicts if v.run == run.run]
    if run.last is None or not steps or any(v.status != "right" for v in steps):
        return None
    last, _ = run.last
    final = {}
    for name in spec.model.params:
        shape = spec.model.shape(name)
        if last[name].size != int(np.prod(shape)):
            return None
        final[name] = np.asarray(last[name], dtype=np.float64).reshape(shape)
    return ReferenceRun([], final, [], [])


def _replay_on_own_data(spec: AssignmentSpec, expected: Expected, judged: StudentRun, own: set[str]) -> ReferenceRun | None:
    """The student's own data set, trained on whole at every step as they did (each step verified on it), with
    their optimizer where it is theirs to choose; None when a step used only part of it (its order is unknown)."""
    run = judged.graded
    steps = [v for v in judged.verdicts if v.run == run.run and v.status == "right"]
    if not steps or any(v.own is None for v in steps) or len(steps) != min(run.calls, VERIFY_STEPS):
        return None
    x, y = steps[0].own
    if any(not (np.array_equal(v.own[0], x) and np.array_equal(v.own[1], y))
           or v.reduce != steps[0].reduce for v in steps):  # per sample: their order
        return None
    return _replay_whole(spec, expected, judged, own, x.tolist(), y.tolist(), steps[0].reduce)


def _replay_on_subset(spec: AssignmentSpec, expected: Expected, judged: StudentRun, own: set[str]) -> ReferenceRun | None:
    """The assignment's rows the student kept (a train split), whole at every step as they trained on them, with
    their optimizer where it is theirs to choose."""
    rows, problem = judged.graded.subset, expected.problem
    return _replay_whole(spec, expected, judged, own, [problem.x[r] for r in rows], [problem.y[r] for r in rows],
                         judged.graded.reduce)


def _replay_whole(spec: AssignmentSpec, expected: Expected, judged: StudentRun, own: set[str], x: list, y: list,
                  reduce: str | None) -> ReferenceRun | None:
    """The reference trained on the data x, y whole at every step, for the graded run's steps, from its start and
    with its optimizer where those are the student's to choose; None when too long to replay or it fails."""
    run = judged.graded
    if run.calls > MAX_REPLAY_STEPS:
        return None
    changes = {"batch": "full", "epochs": run.calls, **_optimizer_changes(run.rule, own)}
    initial = _initial(spec, expected, run)
    problem = dataclasses.replace(expected.problem, x=x, y=y, loss=_reduced(expected.problem.loss, reduce),
                                  params=expected.problem.params if initial is None else initial)
    try:
        with np.errstate(all="ignore"):
            return train(problem, dataclasses.replace(expected.schedule, **changes))
    except (ValueError, ArithmeticError):
        return None


def _reduced(loss: str, reduce: str | None) -> str:
    """The spec's per-sample loss as the student reduced it over a batch (grader.own_run.REDUCTIONS)."""
    return loss if reduce is None else f"{reduce}({loss})"


def _replay_lbfgs(spec: AssignmentSpec, expected: Expected, judged: StudentRun) -> ReferenceRun | None:
    """LBFGS on the whole batch, at the student's lr and torch's other defaults, for as many closure evaluations
    as the student's backward() calls (None: a run on mini-batches or single samples, or too long to replay)."""
    run = judged.graded
    if run.samples_per_step != len(spec.data.x) or run.single or not run.rule.lr or run.rule.lr <= 0:
        return None
    if run.calls > MAX_REPLAY_STEPS:
        return None
    initial = _initial(spec, expected, run)
    problem = expected.problem if initial is None else dataclasses.replace(expected.problem, params=initial)
    problem = dataclasses.replace(problem, loss=_reduced(problem.loss, run.reduce))
    try:
        return train_lbfgs(problem, LBFGSSettings(lr=run.rule.lr), run.calls)
    except (ValueError, ArithmeticError):
        return None


def _own_targets(expected: Expected, run: RunProtocol):
    """The assignment's targets with the graded run's own where it has them (its other samples' steps were right
    on the assignment's); None without own targets."""
    y = np.array(expected.problem.y, dtype=np.float64)
    if not run.targets or y.size != len(y):
        return None
    for row, target in run.targets.items():
        y.reshape(len(y), -1)[row] = target
    return y.tolist()


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
    if judged is not None and judged.own_end:
        return _last_update_tolerance(judged.graded)
    if judged is None or judged.replayed is None or judged.graded.rule.optimizer not in NORMALISED_STEPS:
        return 0.0
    return abs(judged.graded.rule.lr or 0.0)


def judged_prediction(spec: AssignmentSpec, expected: Expected, report: RunReport, x, key) -> np.ndarray:
    """The prediction at `x` the student's is held against (see the module's rule)."""
    judged = student_run(spec, expected, report)
    if judged is None or judged.replayed is None:
        return expected.predictions[key]
    params = judged.replayed.final_params
    if judged.own_end:  # within one update of the run's end: the model is asked where the student's training left it
        final = _student_final(spec, report)
        atol = replay_atol(spec, expected, report)
        if final is not None and all(np.allclose(final[n], params[n], rtol=0, atol=atol) for n in params):
            params = final
    return np.asarray(predict(expected.problem, params, np.asarray(x, dtype=np.float64)))


def outputs_on_own_data(spec: AssignmentSpec, expected: Expected, report: RunReport, x) -> np.ndarray | None:
    """The model's outputs at `x` where the student trained on data (or targets) of their own, as the replay with
    their choices leaves it; None where the run was on the assignment's data or is not replayed."""
    judged = student_run(spec, expected, report)
    if judged is None or judged.replayed is None or judged.own_end or "data" not in _replayed_choices(spec, judged):
        return None
    return np.asarray(predict(expected.problem, judged.replayed.final_params, np.asarray(x, dtype=np.float64)))


def _student_final(spec: AssignmentSpec, report: RunReport) -> dict[str, np.ndarray] | None:
    """The student's parameters after training, in the spec's shapes (None if one is missing or another size)."""
    values = report.outcome.final_params if report.outcome is not None else {}
    final = {}
    for name in spec.model.params:
        value = values.get(name)
        array = value.array() if value is not None and value.kind in ("tensor", "number") else None
        if array is None or array.size != int(np.prod(spec.model.shape(name))) or not np.all(np.isfinite(array)):
            return None
        final[name] = np.asarray(array, dtype=np.float64).reshape(spec.model.shape(name))
    return final

