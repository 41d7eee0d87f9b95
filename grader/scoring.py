"""Reference × sandbox outcome → check results, points and diagnoses.

Rules, stated once:
- A value matches when |got - expected| <= atol + rtol * |expected| for every element (NaN never matches).
- `runs` is all or nothing. `gradients` earns the share of probes whose every gradient matches; `trace`
  the share of reference steps whose gradients match from the first step on, up to the first step that
  differs (each step depends on every step before it, so a step matched after a divergence is a
  coincidence: the near-zero gradients of a converged run are matched by any run that stopped moving);
  a trace of a different length is compared over the common steps and divided by the longer length;
  `final_params` the share of parameters that match;
  `predictions` the share of inputs that match.
- Diagnoses are found outside the checks: a trace that matches a known mistake variant of the reference
  from its first step on, the state of the parameters, a missing backward().
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from grader.checks.accuracy import check_accuracy
from grader.checks.compare import difference, input_key  # noqa: F401 - input_key: grader.grading keys predictions by it
from grader.checks.function import check_function
from grader.feedback import Message
from grader.outcome import Outcome, RunReport, TensorData
from grader.reference import Problem, ReferenceRun, Schedule, Variant, gradients_at, mistake_variants, train
from grader.plan import prediction_inputs
from grader.spec import AssignmentSpec, Check


@dataclass
class Reference:
    """Everything the grader knows that the student must never see, computed once per spec."""

    problem: Problem
    schedule: Schedule
    run: ReferenceRun
    probes: list[dict]  # {"params", "x", "y", "check", "grads"}
    predictions: dict[float | str, np.ndarray]  # by grader.checks.compare.input_key of the input
    variants: dict[Variant, ReferenceRun] = field(default_factory=dict)
    function_probes: list[dict] = field(default_factory=list)  # {"params", "args", "check", "expected": [arrays]}
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


@dataclass
class CheckResult:
    id: str
    kind: str
    passed: bool
    points: float
    max_points: float
    message: Message
    visibility: str = "visible"
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "passed": self.passed, "points": self.points,
                "max_points": self.max_points, "message": self.message.as_dict(),
                "visibility": self.visibility, "details": self.details}


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


# ---------------------------------------------------------------------------------------------
# Comparing numbers


def matches(expected, got: np.ndarray | None, rtol: float, atol: float) -> bool:
    if got is None:
        return False
    expected = np.asarray(expected, dtype=np.float64).ravel()
    got = np.asarray(got, dtype=np.float64).ravel()
    if expected.size != got.size or not np.all(np.isfinite(got)):
        return False
    return bool(np.all(np.abs(got - expected) <= atol + rtol * np.abs(expected)))


def _show(value) -> float | list | None:
    """A value as feedback shows it: a scalar when it has one element."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64).ravel()
    if arr.size == 1:
        return float(arr[0])
    return [float(v) for v in arr[:8]]


def _array(data: TensorData | None) -> np.ndarray | None:
    return None if data is None else data.array()


def _brief(value):
    """A probe's x or y as feedback shows it: a number or a short list, else how many samples."""
    arr = np.asarray(value, dtype=np.float64)
    return _show(arr) if arr.size <= 8 else f"{arr.shape[0] if arr.ndim else 1} samples"


def _brief_params(params: dict) -> dict:
    return {name: _brief(value) if np.size(value) <= 8 else "random values" for name, value in params.items()}


def _sample_words(step, schedule: Schedule, n: int):
    """The sample a step trained on, 1-based: a number, or a range for a mini-batch."""
    if step.sample is not None:
        return step.sample + 1
    if getattr(step, "batch", None) is not None and isinstance(schedule.batch, int):
        start = step.batch * schedule.batch
        return f"{start + 1}-{min(start + schedule.batch, n)}"
    return None


def _share(points: float, matched: int, total: int) -> float:
    return round(points * matched / total, 2) if total else 0.0


# ---------------------------------------------------------------------------------------------
# The student's trace


def _by_param(recorded: dict, params: list[str]) -> dict[str, np.ndarray | None]:
    """Each spec parameter's array in one recorded step. One unnamed leaf stands for a lone parameter."""
    arrays = {p: _array(recorded.get(p)) for p in params}
    if len(params) == 1 and params[0] not in recorded and len(recorded) == 1:
        arrays[params[0]] = _array(next(iter(recorded.values())))
    return arrays


def student_grads(outcome: Outcome, params: list[str]) -> list[dict[str, np.ndarray | None]]:
    """Per backward() call, each spec parameter's .grad."""
    return [_by_param(step.grads, params) for step in outcome.trace]


def student_values(outcome: Outcome, params: list[str]) -> list[dict[str, np.ndarray | None]]:
    """Per recorded backward() call, each spec parameter's value (the harness keeps the first few)."""
    return [_by_param(step.values, params) for step in outcome.trace]


@dataclass
class TraceComparison:
    matched: int
    compared: int
    first: tuple[int, str, np.ndarray, np.ndarray | None] | None  # step index, param, expected, got


def compare_trace(student: list[dict], ref: ReferenceRun, rtol: float, atol: float) -> TraceComparison:
    matched, first = 0, None
    n = min(len(student), len(ref.steps))
    for i in range(n):
        bad = next((p for p, g in ref.steps[i].grads.items() if not matches(g, student[i].get(p), rtol, atol)), None)
        if bad is not None:
            first = (i, bad, ref.steps[i].grads[bad], student[i].get(bad))
            break
        matched += 1
    return TraceComparison(matched, n, first)


# ---------------------------------------------------------------------------------------------
# Checks


def check_runs(check: Check, report: RunReport) -> tuple[bool, float, Message]:
    o = report.outcome
    if report.timed_out:
        return False, 0.0, Message("runs.timeout", {"seconds": report.wall_limit})
    if o is None:
        if report.outcome_error:
            return False, 0.0, Message("runs.bad_outcome", {"reason": report.outcome_error})
        if report.signal:
            return False, 0.0, Message("runs.killed", {"signal": report.signal, "reason": report.signal_reason()})
        return False, 0.0, Message("runs.no_outcome")
    if o.status == "ok":
        return True, check.points, Message("runs.ok")
    if o.status == "syntax_error":
        e = o.error
        return False, 0.0, Message("runs.syntax_error", {"line": e.line if e else None, "message": e.message if e else ""})
    if o.status == "exception":
        e = o.error
        if e and e.line:
            return False, 0.0, Message("runs.exception", {"type": e.type, "line": e.line, "message": e.message})
        return False, 0.0, Message("runs.exception_no_line", {"type": e.type if e else "", "message": e.message if e else ""})
    if o.status == "exit":
        return False, 0.0, Message("runs.exit", {"exit_code": o.exit_code})
    if o.status == "os_exit":
        return False, 0.0, Message("runs.os_exit", {"exit_code": o.exit_code})
    return False, 0.0, Message("runs.harness_error", {"message": o.error.message if o.error else ""})


def check_gradients(check: Check, ref: Reference, report: RunReport) -> tuple[bool, float, Message, dict]:
    probes = [p for p in ref.probes if p["check"] == check.id]
    o = report.outcome
    if o is None or o.status == "syntax_error":
        return False, 0.0, Message("gradients.unavailable", {"reason": "the script did not run"}), {}
    if o.probes.error:
        return False, 0.0, Message("gradients.unavailable", {"reason": o.probes.error}), {}
    offset = next(i for i, p in enumerate(ref.probes) if p["check"] == check.id) if probes else 0
    results = o.probes.results[offset:offset + len(probes)]
    matched, first, first_kind = 0, None, None
    for i, probe in enumerate(probes):
        got = results[i] if i < len(results) else None
        if got is None or got.error or got.grads is None:
            if first is None:
                first, first_kind = {"error": got.error if got else "no result"}, "gradients.probe_error"
            continue
        bad = None
        for p, g in probe["grads"].items():
            if not matches(g, _array(got.grads.get(p)), check.rtol, check.atol):
                bad = p
                break
        if bad is None:
            matched += 1
        elif first is None:
            student = got.grads.get(bad)
            first = {"param": bad, "x": _brief(probe["x"]), "y": _brief(probe["y"]), "at": _brief_params(probe["params"]),
                     **difference(probe["grads"][bad], _array(student), check.rtol, check.atol)}
            first_kind = "gradients.no_grad" if student is None else "gradients.mismatch"
    total = len(probes)
    if first is None:
        return True, check.points, Message("gradients.ok", {"probes": total}), {}
    first.update(matched=matched, probes=total)
    return False, _share(check.points, matched, total), Message(first_kind, first), {"first": first}


def check_trace(check: Check, ref: Reference, report: RunReport, params: list[str]) -> tuple[bool, float, Message, dict]:
    o = report.outcome
    expected = len(ref.run.steps)
    if o is None or not o.trace:
        return False, 0.0, Message("trace.no_backward"), {}
    student = student_grads(o, params)
    recorded = {name for step in o.trace for name in step.grads}
    missing = [p for p in params if all(s.get(p) is None for s in student)]
    if missing:
        found = ", ".join(sorted(recorded)) or "nothing"
        return False, 0.0, Message("trace.missing_param", {"param": missing[0], "found": found}), {}
    cmp = compare_trace(student, ref.run, check.rtol, check.atol)
    got = o.backward_calls
    points = _share(check.points, cmp.matched, max(expected, got))
    if cmp.first is not None:
        i, param, exp, got_value = cmp.first
        step = ref.run.steps[i]
        first = {"step": i + 1, "epoch": step.epoch + 1, "sample": _sample_words(step, ref.schedule, len(ref.problem.x)),
                 "param": param, **difference(exp, got_value, check.rtol, check.atol),
                 "matched": cmp.matched, "steps": expected}
        return False, points, Message("trace.first_divergence", first), {"first": first}
    if got != expected:
        code = "trace.too_short" if got < expected else "trace.too_long"
        return False, points, Message(code, {"got": got, "expected": expected}), {}
    return True, check.points, Message("trace.ok", {"steps": expected}), {}


def check_final_params(check: Check, ref: Reference, report: RunReport) -> tuple[bool, float, Message, dict]:
    o = report.outcome
    params = list(ref.run.final_params)
    first = None
    matched = 0
    for name in params:
        value = o.final_params.get(name) if o else None
        if value is None or value.kind == "missing":
            first = first or Message("final_params.missing", {"param": name})
        elif value.kind == "other":
            first = first or Message("final_params.not_tensor", {"param": name, "type": value.type})
        elif matches(ref.run.final_params[name], value.array(), check.rtol, check.atol):
            matched += 1
        else:
            first = first or Message("final_params.mismatch", {
                "param": name, **difference(ref.run.final_params[name], value.array(), check.rtol, check.atol)})
    if first is None:
        return True, check.points, Message("final_params.ok"), {}
    return False, _share(check.points, matched, len(params)), first, {}


def check_predictions(check: Check, ref: Reference, report: RunReport, spec: AssignmentSpec | None = None
                      ) -> tuple[bool, float, Message, dict]:
    o = report.outcome
    got_by_x = {}
    for p in (o.predictions if o else []):
        try:
            got_by_x.setdefault(float(p.x), p)
        except (TypeError, ValueError):
            continue
    planned = prediction_inputs(spec) if spec is not None else []
    by_index = {p.index: p for p in (o.predictions if o else []) if p.index is not None}
    matched, first = 0, None
    for item in check.prediction_inputs:
        x = item.x
        expected = ref.predictions[input_key(x)]
        got = None
        if x in planned and by_index.get(planned.index(x)) is not None:
            got = by_index[planned.index(x)]
        elif not isinstance(x, list):
            got = got_by_x.get(float(x))
        rtol = check.rtol if item.rtol is None else item.rtol
        atol = check.atol if item.atol is None else item.atol
        if got is None or got.error or got.value is None:
            error = got.error if got and got.error else "no prediction"
            first = first or Message("predictions.error", {"x": x, "error": error})
        elif matches(expected, got.value.array(), rtol, atol):
            matched += 1
        else:
            first = first or Message("predictions.mismatch", {"x": x, **difference(expected, got.value.array(), rtol, atol)})
    total = len(check.inputs or [])
    if first is None:
        return True, check.points, Message("predictions.ok"), {}
    return False, _share(check.points, matched, total), first, {}


# ---------------------------------------------------------------------------------------------
# Diagnoses


def _estimated_lr(values: list[dict], grads: list[dict], params: list[str]) -> float | None:
    """lr from the first update the student made: -(v1 - v0) / g0, on the first parameter that moved."""
    if len(values) < 2:
        return None
    for p in params:
        v0, v1, g0 = values[0].get(p), values[1].get(p), grads[0].get(p)
        if v0 is None or v1 is None or g0 is None or v0.size != v1.size or v0.size != g0.size:
            continue
        mask = np.abs(g0) > 1e-8
        if not np.any(mask):
            continue
        lr = float(np.median(-(v1[mask] - v0[mask]) / g0[mask]))
        if math.isfinite(lr) and lr != 0:
            return float(f"{lr:.3g}")
    return None


def run_notes(report: RunReport) -> list[Message]:
    """What the harness changed to run the script (notebook magics blanked), said to the student."""
    if report.outcome is None:
        return []
    return [Message(f"note.{n.code}", {"lines": n.lines}) for n in report.outcome.notes]


def diagnose(spec: AssignmentSpec, ref: Reference, report: RunReport, results: dict[str, CheckResult]) -> list[Message]:
    o = report.outcome
    if o is None or o.status == "syntax_error":
        return []
    params = list(spec.model.params)
    found: list[Message] = []
    autograd = spec.training.autograd
    for name in params:
        value = o.final_params.get(name)
        if value is None or value.kind == "missing":
            found.append(Message("mistake.missing_param", {"param": name}))
        elif value.kind == "number" and not autograd:
            continue  # gradients by hand: a plain number is the natural parameter
        elif value.kind in ("number", "other"):
            found.append(Message("mistake.not_tensor_param", {"param": name, "type": value.type or "number"}))
        elif not value.is_leaf:
            found.append(Message("mistake.non_leaf_param", {"param": name}))
    if found:
        return found
    if not autograd:
        return _hand_gradient_mistakes(spec, ref, o, results)
    if o.backward_calls == 0 and o.status == "ok":
        return [Message("mistake.no_backward")]
    grads_check = next((r for r in results.values() if r.kind == "gradients" and not r.passed), None)
    if grads_check and grads_check.details.get("first", {}).get("param"):
        found.append(Message("mistake.wrong_gradient", {"param": grads_check.details["first"]["param"]}))
    if not o.trace:
        return found
    values, grads = student_values(o, params), student_grads(o, params)
    for name in params:
        first = values[0].get(name)
        if spec.model.initial(name) is None:
            continue  # init: student
        init = np.asarray(spec.model.initial(name), dtype=np.float64)
        if first is not None and not matches(init, first, 1e-6, 1e-6):
            found.append(Message("mistake.wrong_init", {"param": name, "expected": _show(init), "got": _show(first)}))
    if found:
        return found
    found += _trace_mistakes(spec, ref, values, grads, params, o.status)
    return found


def _hand_gradient_mistakes(spec, ref: Reference, o: Outcome, results: dict[str, CheckResult]) -> list[Message]:
    """Gradients computed by hand leave no trace: judge the function at the probe points, then which known
    mistake (learning rate, ascent, epochs) trained to the student's final parameters."""
    failing = next((r for r in results.values() if r.kind == "function" and not r.passed
                    and r.message.code == "function.mismatch"), None)
    if failing is not None and failing.message.params.get("returns") == "gradient":
        p = failing.message.params
        return [Message("mistake.wrong_hand_gradient", {"function": p["function"], "param": p["param"]})]
    final = {name: o.final_params[name].array() for name in ref.run.final_params if name in o.final_params}
    if len(final) != len(ref.run.final_params) or any(v is None for v in final.values()):
        return []
    rtol, atol = 1e-6, 1e-9
    if all(matches(ref.run.final_params[n], v, rtol, atol) for n, v in final.items()):
        return []
    for variant in [v for v in mistake_variants(ref.schedule) if v.code != "mistake.no_zero_grad"]:
        run = ref.variant_run(variant)
        if all(matches(run.final_params[n], v, rtol, atol) for n, v in final.items()):
            if variant.code == "mistake.learning_rate":
                return [Message(variant.code, {"lr": variant.lr, "expected": spec.training.lr})]
            return [Message(variant.code)]
    longer = ref.variant_run(Variant(code="epochs", epochs=2 * spec.training.epochs))
    for epoch, params in enumerate(longer.epoch_params, start=1):
        if epoch != spec.training.epochs and all(matches(params[n], v, rtol, atol) for n, v in final.items()):
            code = "mistake.too_few_epochs" if epoch < spec.training.epochs else "mistake.too_many_epochs"
            return [Message(code, {"epochs": epoch, "expected": spec.training.epochs})]
    return []


DIAGNOSIS_STEPS = 60  # enough steps to tell the variants apart, few enough that float32 drift stays small
DIAGNOSIS_RTOL = 1e-3


def _trace_mistakes(spec, ref: Reference, values, grads, params, outcome_status: str) -> list[Message]:
    """Which known mistake explains the student's trace, from its first step on."""
    rtol, atol = _trace_tolerance(spec)
    cmp = compare_trace(grads, ref.run, rtol, atol)
    n_ref, n_student = len(ref.run.steps), len(grads)
    per_epoch = max(1, n_ref // spec.training.epochs)
    if cmp.first is None:
        if outcome_status != "ok":
            return []  # a run that stopped early is explained by how it stopped
        if n_student < n_ref:
            return [Message("mistake.too_few_epochs", {"epochs": n_student / per_epoch, "expected": spec.training.epochs})]
        if n_student > n_ref:
            return [Message("mistake.too_many_epochs", {"epochs": n_student / per_epoch, "expected": spec.training.epochs})]
        return []
    candidates = [(variant, True) for variant in mistake_variants(ref.schedule)]
    lr = _estimated_lr(values, grads, params)
    if lr is not None and lr > 0 and not math.isclose(lr, spec.training.lr, rel_tol=1e-3):
        candidates.insert(0, (Variant(code="mistake.learning_rate", lr=lr), False))
    for variant, keep in candidates:
        if _explains(grads, ref.variant_run(variant, keep), max(rtol, DIAGNOSIS_RTOL), atol):
            if variant.code == "mistake.learning_rate":
                return [Message(variant.code, {"lr": variant.lr, "expected": spec.training.lr})]
            return [Message(variant.code)]
    if spec.training.batch == "per-sample":
        for reduce in ("sum", "mean"):
            run = ref.full_batch_run(reduce)
            if run is not None and _explains(grads, run, max(rtol, DIAGNOSIS_RTOL), atol):
                return [Message("mistake.full_batch", {"reduce": reduce})]
    return []


def _finite_steps(steps: list[dict]) -> int:
    """How many leading steps hold only finite gradients (diverging runs end in inf and nan)."""
    for i, step in enumerate(steps):
        if any(g is None or not np.all(np.isfinite(g)) for g in step.values()):
            return i
    return len(steps)


def _explains(student: list[dict], run: ReferenceRun, rtol: float, atol: float) -> bool:
    """Does a mistake variant reproduce the student's trace? Judged on the leading finite steps only:
    float32 and float64 runs part ways once a diverging run blows up."""
    n = min(len(student), len(run.steps), DIAGNOSIS_STEPS)
    n = min(n, _finite_steps(student[:n]), _finite_steps([s.grads for s in run.steps[:n]]))
    if n < min(2, len(student)):
        return False
    return compare_trace(student[:n], run, rtol, atol).first is None


def _trace_tolerance(spec: AssignmentSpec) -> tuple[float, float]:
    trace = next((c for c in spec.checks if c.kind == "trace"), None)
    return (trace.rtol, trace.atol) if trace else (1e-4, 1e-5)


# ---------------------------------------------------------------------------------------------


def late_penalty(spec: AssignmentSpec, submitted_at: dt.datetime | None, deadline: dt.datetime | None = None) -> float:
    """Fraction of the score taken off: penalty_per_day for each started day past deadline + grace."""
    deadline = deadline or spec.deadline
    if submitted_at is None or deadline is None:
        return 0.0
    late = submitted_at - deadline - dt.timedelta(minutes=spec.late.grace_minutes)
    if late <= dt.timedelta(0):
        return 0.0
    days = math.ceil(late / dt.timedelta(days=1))
    if spec.late.max_days is not None:
        days = min(days, spec.late.max_days)
    return min(1.0, days * spec.late.penalty_per_day)


def score(spec: AssignmentSpec, ref: Reference, report: RunReport,
          submitted_at: dt.datetime | None = None) -> GradeResult:
    """Grade one run. Pure: the same inputs always give the same result."""
    params = list(spec.model.params)
    results: dict[str, CheckResult] = {}
    not_run = report.outcome is None or report.outcome.status == "syntax_error"
    for check in spec.checks:
        details: dict = {}
        if not_run and check.kind != "runs":
            passed, points, message = False, 0.0, Message("check.not_run")
        elif check.kind == "runs":
            passed, points, message = check_runs(check, report)
        elif check.kind == "gradients":
            passed, points, message, details = check_gradients(check, ref, report)
        elif check.kind == "trace":
            passed, points, message, details = check_trace(check, ref, report, params)
        elif check.kind == "final_params":
            passed, points, message, details = check_final_params(check, ref, report)
        elif check.kind == "predictions":
            passed, points, message, details = check_predictions(check, ref, report, spec)
        elif check.kind == "function":
            passed, points, message, details = check_function(check, ref.function_probes, params, report.outcome)
        else:
            passed, points, message, details = check_accuracy(check, check.data or spec.data, report.outcome)
        results[check.id] = CheckResult(check.id, check.kind, passed, points, check.points, message,
                                        check.visibility, details)
    diagnoses = diagnose(spec, ref, report, results) + run_notes(report)
    penalty = late_penalty(spec, submitted_at)
    raw = sum(r.points for r in results.values())
    return GradeResult(assignment=spec.id, score=round(raw * (1 - penalty), 2), max_score=spec.max_points,
                       checks=list(results.values()), diagnoses=diagnoses, stdout=report.stdout,
                       stderr=report.stderr, late_penalty=penalty)
