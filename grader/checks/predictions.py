"""`predictions` checks: the student's trained model at inputs the spec names, against the reference's
predictions there (the spec's run, or the one replayed with the student's own choices: grader.student_run). The check earns the share of inputs that match."""
from __future__ import annotations

from grader.checks.compare import difference, input_key, matches, share
from grader.checks.result import Finding
from grader.expected import Expected
from grader.messages import Message, said
from grader.outcome import RunReport, as_param
from grader.plan import prediction_inputs
from grader.spec import AssignmentSpec, Check
from grader.student_run import judged_prediction


def grade(check: Check, spec: AssignmentSpec, expected: Expected, report: RunReport) -> Finding:
    o = report.outcome
    got_by_x = {}
    for p in (o.predictions if o else []):
        try:
            got_by_x.setdefault(float(p.x), p)
        except (TypeError, ValueError):
            continue
    planned = prediction_inputs(spec)
    by_index = {p.index: p for p in (o.predictions if o else []) if p.index is not None}
    matched, first = 0, None
    for item in check.prediction_inputs:
        x = item.x
        want = judged_prediction(spec, expected, report, x, input_key(x))
        got = None
        if x in planned and by_index.get(planned.index(x)) is not None:
            got = by_index[planned.index(x)]
        elif not isinstance(x, list):
            got = got_by_x.get(float(x))
        rtol = check.rtol if item.rtol is None else item.rtol
        atol = check.atol if item.atol is None else item.atol
        if got is None or got.error or got.value is None:
            error = as_param(got.error) if got and got.error else said("reason.no_prediction")
            first = first or Message("predictions.error", {"x": x, "error": error})
        elif matches(want, got.value.array(), rtol, atol):
            matched += 1
        else:
            first = first or Message("predictions.mismatch", {"x": x, **difference(want, got.value.array(), rtol, atol)})
    total = len(check.inputs or [])
    if first is None:
        return Finding(True, check.points, Message("predictions.ok"))
    return Finding(False, share(check.points, matched, total), first)
