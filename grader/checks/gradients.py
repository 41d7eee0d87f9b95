"""`gradients` checks: the student's .grad at probe points (parameters, x, y chosen by the grader) against
the reference's. The check earns the share of probes whose every gradient matches.

The probes call the student's loss object as the assignment does (`criterion(model(x), y)`). A training that
does more with it (`criterion(...) * 3` for a sum, `reduction='none'` then `.sum()`) fails them while its every
step is right: where the trace verified the graded run right throughout, the check passes and says why."""
from __future__ import annotations

import numpy as np

from grader.checks.compare import as_array, brief, difference, matches, share
from grader.checks.result import Finding
from grader.expected import Expected
from grader.messages import Message, said
from grader.outcome import RunReport, as_param
from grader.plan import function_calls
from grader.spec import AssignmentSpec, Check
from grader.student_run import student_run

# a training verified right at this many steps (or at all of a shorter run's) shows the backprop the probes test
TRAINED_RIGHT_STEPS = 3


def _brief_params(params: dict) -> dict:
    return {name: brief(value) if np.size(value) <= 8 else said("value.random") for name, value in params.items()}


def grade(check: Check, spec: AssignmentSpec, expected: Expected, report: RunReport) -> Finding:
    probes = [p for p in expected.probes if p["check"] == check.id]
    o = report.outcome
    if o is None or o.status == "syntax_error":
        return Finding(False, 0.0, Message("gradients.unavailable", {"reason": said("reason.not_run")}))
    if o.probes.error:
        return Finding(False, 0.0, Message("gradients.unavailable", {"reason": as_param(o.probes.error)}))
    offset = next(i for i, p in enumerate(expected.probes) if p["check"] == check.id) if probes else 0
    results = o.probes.results[offset:offset + len(probes)]
    matched, first, first_kind = 0, None, None
    for i, probe in enumerate(probes):
        got = results[i] if i < len(results) else None
        if got is None or got.error or got.grads is None:
            if first is None:
                first, first_kind = {"error": as_param(got.error) if got and got.error else said("reason.no_result")}, "gradients.probe_error"
            continue
        bad = None
        for p, g in probe["grads"].items():
            if not matches(g, as_array(got.grads.get(p)), check.rtol, check.atol):
                bad = p
                break
        if bad is None:
            matched += 1
        elif first is None:
            student = got.grads.get(bad)
            first = {"param": bad, "x": brief(probe["x"]), "y": brief(probe["y"]), "at": _brief_params(probe["params"]),
                     **difference(probe["grads"][bad], as_array(student), check.rtol, check.atol)}
            first_kind = "gradients.no_grad" if student is None else "gradients.mismatch"
    total = len(probes)
    if first is None:
        return Finding(True, check.points, Message("gradients.ok", {"probes": total}))
    first.update(matched=matched, probes=total)
    steps = _trained_right(spec, expected, report)
    if steps:
        code = "gradients.ok_by_trace_error" if first_kind == "gradients.probe_error" else "gradients.ok_by_trace"
        said_so = {**first, "steps": steps, "loss": function_calls(spec)["loss"]}
        return Finding(True, check.points, Message(code, said_so))
    return Finding(False, share(check.points, matched, total), Message(first_kind, first), {"first": first})


def _trained_right(spec: AssignmentSpec, expected: Expected, report: RunReport) -> int:
    """How many steps of the graded run the trace verified, when every one was right and there were enough."""
    judged = student_run(spec, expected, report)
    if judged is None or judged.graded is None:
        return 0
    verdicts = [v for v in judged.verdicts if v.run == judged.graded.run]
    enough = min(TRAINED_RIGHT_STEPS, judged.graded.calls)
    right = len(verdicts) >= max(enough, 1) and all(v.status == "right" for v in verdicts)
    return len(verdicts) if right else 0
