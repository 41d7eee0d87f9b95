"""`function` checks: the student's own function (a gradient computed by hand, a loss, a forward) called
at probe points, its return values against the reference's. No autograd is involved."""
from __future__ import annotations

import numpy as np

from grader.checks.compare import brief, difference, matches, share
from grader.checks.result import Finding
from grader.expected import Expected
from grader.messages import Message, said
from grader.outcome import RunReport, as_param
from grader.spec import AssignmentSpec, Check


def grade(check: Check, spec: AssignmentSpec, expected: Expected, report: RunReport) -> Finding:
    expected_calls, params, outcome = expected.function_probes, list(spec.model.params), report.outcome
    calls = [c for c in expected_calls if c["check"] == check.id]
    offset = next((i for i, c in enumerate(expected_calls) if c["check"] == check.id), 0)
    results = outcome.function_probes[offset:offset + len(calls)] if outcome else []
    matched, first = 0, None
    for i, call in enumerate(calls):
        got = results[i] if i < len(results) else None
        if got is None or got.error or got.value is None:
            first = first or ("function.error", {"function": check.function,
                                                  "error": as_param(got.error) if got and got.error
                                                  else said("reason.no_result")})
            continue
        values = [v.array() for v in got.value]
        want = call["expected"]
        if len(values) != len(want):  # one param, several numbers returned: compare them as one vector
            values = [np.concatenate([v.ravel() for v in values if v is not None])] if all(
                v is not None for v in values) and len(want) == 1 else values
        bad = next((k for k, e in enumerate(want)
                    if k >= len(values) or not matches(e, values[k], check.rtol, check.atol)), None)
        if bad is None:
            matched += 1
        elif first is None and _per_sample(call, want, values, check):
            first = ("function.per_sample", {"function": check.function, "samples": len(call["args"][0])})
        elif first is None and _one_sample(call, values, check) is not None:
            first = ("function.one_sample", {"function": check.function, "samples": len(call["args"][0]),
                                             "x": brief(call["args"][0][_one_sample(call, values, check)])})
        elif first is None:
            what = params[bad] if check.returns == "gradient" and bad < len(params) else check.returns
            at = {name: brief(v) for name, v in call["params"].items()}
            # "(gradient of w)" says which gradient; a loss or a forward is one value: "(loss of loss)" says nothing
            code = "function.mismatch" if check.returns == "gradient" else "function.mismatch_value"
            first = (code, {"function": check.function, "returns": check.returns, "param": what,
                                           "at": at, "args": [brief(a) for a in call["args"]],
                                           **difference(want[bad], values[bad] if bad < len(values) else None,
                                                        check.rtol, check.atol)})
    total = len(calls)
    if first is None:
        return Finding(True, check.points, Message("function.ok", {"function": check.function, "probes": total}))
    scaled = _scaled_at_every_probe(calls, results, check)
    if scaled is not None:  # one mistake at every probe: the sum where the mean is asked (or the other way)
        first = ("function.summed" if scaled > 1 else "function.averaged",
                 {"function": check.function, "samples": round(max(scaled, 1 / scaled))})
    code, params_ = first
    params_.update(matched=matched, probes=total)
    return Finding(False, share(check.points, matched, total), Message(code, params_), {"first": params_})


def _scaled_at_every_probe(calls: list, results: list, check: Check) -> float | None:
    """n (or 1/n) when at every probe the function returned the assignment's value times the number n > 1 of the
    samples it was given: it sums where the assignment averages (or averages where it sums); else None."""
    factor = None
    for i, call in enumerate(calls):
        got = results[i] if i < len(results) else None
        samples = call["args"][0] if call["args"] else None
        if got is None or got.error or got.value is None or not isinstance(samples, list) or len(samples) < 2:
            return None
        values, want = [v.array() for v in got.value], call["expected"]
        if len(values) != len(want):
            return None
        n = len(samples)
        here = next((f for f in (n, 1 / n) if all(v is not None and matches(np.asarray(e, dtype=np.float64) * f, v,
                                                                             check.rtol, check.atol)
                                                 for e, v in zip(want, values))), None)
        if here is None or factor not in (None, here):
            return None
        factor = here
    return factor


def _per_sample(call: dict, want: list, values: list, check: Check) -> bool:
    """Whether a function asked for one value over a batch returned one value per sample whose mean is that
    value: gradient(x, y) of the lecture's stochastic part, called with the lists of samples."""
    samples = call["args"][0] if call["args"] else None
    if len(want) != 1 or len(values) != 1 or values[0] is None or not isinstance(samples, list) or len(samples) < 2:
        return False
    got = np.asarray(values[0], dtype=np.float64).ravel()
    return got.size == len(samples) and np.size(want[0]) == 1 and matches(want[0], np.mean(got), check.rtol, check.atol)


def _one_sample(call: dict, values: list, check: Check) -> int | None:
    """The sample whose own gradient a function asked for the batch's returned (one picked at random, or the
    first): the index of the first such sample, else None."""
    for i, want in enumerate(call.get("per_sample") or []):
        if len(values) == len(want) and all(v is not None and matches(e, v, check.rtol, check.atol)
                                            for e, v in zip(want, values)):
            return i
    return None
