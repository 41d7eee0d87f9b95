"""Helpers the benchmarks share."""
from __future__ import annotations

import time


def graded_in_phases(spec, source: str, box) -> dict[str, float]:
    """One grading, timed by phase (seconds) plus the outcome's size (bytes) and the score's share."""
    from grader.expected import expected_for
    from grader.plan import build_plan
    from grader.scoring import score
    from worker.grading import limits_for, report_from
    from worker.sandbox import Job

    limits = limits_for(spec)
    t0 = time.perf_counter()
    result = box.run(Job(source=source, plan=build_plan(spec)), limits)
    t1 = time.perf_counter()
    report = report_from(result, limits)
    t2 = time.perf_counter()
    expected = expected_for(spec, report)
    t3 = time.perf_counter()
    graded = score(spec, expected, report)
    t4 = time.perf_counter()
    return {"graded": t4 - t0, "sandbox": t1 - t0, "parse": t2 - t1, "expected": t3 - t2, "score": t4 - t3,
            "bytes": len(result.outcome_raw or b""), "share": graded.score / graded.max_score}
