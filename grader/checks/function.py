"""`function` checks: the student's own function (a gradient computed by hand, a loss, a forward) called
at probe points, its return values against the reference's. No autograd is involved."""
from __future__ import annotations

import numpy as np

from grader.checks.compare import brief, difference, matches, share
from grader.feedback import Message
from grader.outcome import Outcome
from grader.spec_models import Check


def check_function(check: Check, expected_calls: list[dict], params: list[str], outcome: Outcome | None
                   ) -> tuple[bool, float, Message, dict]:
    calls = [c for c in expected_calls if c["check"] == check.id]
    offset = next((i for i, c in enumerate(expected_calls) if c["check"] == check.id), 0)
    results = outcome.function_probes[offset:offset + len(calls)] if outcome else []
    matched, first = 0, None
    for i, call in enumerate(calls):
        got = results[i] if i < len(results) else None
        if got is None or got.error or got.value is None:
            first = first or ("function.error", {"function": check.function,
                                                  "error": (got.error if got else None) or "no result"})
            continue
        values = [v.array() for v in got.value]
        expected = call["expected"]
        if len(values) != len(expected):  # one param, several numbers returned: compare them as one vector
            values = [np.concatenate([v.ravel() for v in values if v is not None])] if all(
                v is not None for v in values) and len(expected) == 1 else values
        bad = next((k for k, e in enumerate(expected)
                    if k >= len(values) or not matches(e, values[k], check.rtol, check.atol)), None)
        if bad is None:
            matched += 1
        elif first is None:
            what = params[bad] if check.returns == "gradient" and bad < len(params) else check.returns
            at = {name: brief(v) for name, v in call["params"].items()}
            first = ("function.mismatch", {"function": check.function, "returns": check.returns, "param": what,
                                           "at": at, "args": [brief(a) for a in call["args"]],
                                           **difference(expected[bad], values[bad] if bad < len(values) else None,
                                                        check.rtol, check.atol)})
    total = len(calls)
    if first is None:
        return True, check.points, Message("function.ok", {"function": check.function, "probes": total}), {}
    code, params_ = first
    params_.update(matched=matched, probes=total)
    return False, share(check.points, matched, total), Message(code, params_), {"first": params_}
