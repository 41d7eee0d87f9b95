"""`final_params` checks: the student's parameters after training against the reference run's (the spec's run,
or the one replayed with the student's own choices: grader.student_run). The check earns the share of
parameters that match."""
from __future__ import annotations

from grader.checks.compare import difference, matches, share
from grader.checks.result import Finding
from grader.expected import Expected
from grader.messages import Message
from grader.outcome import RunReport
from grader.spec import AssignmentSpec, Check
from grader.student_run import judged_final_params, replay_atol


def grade(check: Check, spec: AssignmentSpec, expected: Expected, report: RunReport) -> Finding:
    o = report.outcome
    want = judged_final_params(spec, expected, report)
    atol = max(check.atol, replay_atol(spec, expected, report))
    params = list(want)
    first = None
    matched = 0
    for name in params:
        value = o.final_params.get(name) if o else None
        if value is None or value.kind == "missing":
            first = first or Message("final_params.missing", {"param": name})
        elif value.kind == "other":
            first = first or Message("final_params.not_tensor", {"param": name, "type": value.type})
        elif matches(want[name], value.array(), check.rtol, atol):
            matched += 1
        else:
            first = first or Message("final_params.mismatch", {
                "param": name, **difference(want[name], value.array(), check.rtol, atol)})
    if first is None:
        return Finding(True, check.points, Message("final_params.ok"))
    return Finding(False, share(check.points, matched, len(params)), first)
