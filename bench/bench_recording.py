"""Recording benchmark: what recording the student's own run (every step's parameters, gradients and samples)
costs on the seed homework (backprop-quadratic, 300 backward() calls), graded end to end with the fork server.

Prints the graded p50 and p95 and, per phase, the p50 of the sandbox run, parsing the outcome, the expected values
and scoring, plus the outcome's size. Run it on two checkouts (PYTHONPATH=<checkout>) to compare them.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 40


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from grader.expected import expected_for
    from grader.plan import build_plan
    from grader.scoring import score
    from grader.spec import load_spec
    from worker.grading import grade_source, limits_for, report_from
    from worker.sandbox import Job, get_sandbox

    folder = ROOT / "assignments" / "backprop-quadratic"
    spec, source = load_spec(folder / "assignment.yaml"), (folder / "solution.py").read_text()
    job, limits = Job(source=source, plan=build_plan(spec)), limits_for(spec)
    box = get_sandbox("forkserver")
    phases: dict[str, list[float]] = {"graded": [], "sandbox": [], "parse": [], "expected": [], "score": []}
    size = 0
    try:
        grade_source(spec, source, box)  # warm-up: starts the fork server, caches the spec's expected values
        for _ in range(RUNS):
            t0 = time.perf_counter()
            result = box.run(job, limits)
            t1 = time.perf_counter()
            report = report_from(result, limits)
            t2 = time.perf_counter()
            expected = expected_for(spec, report)
            t3 = time.perf_counter()
            graded = score(spec, expected, report)
            t4 = time.perf_counter()
            assert graded.score == graded.max_score, graded.score
            size = len(result.outcome_raw or b"")
            for name, seconds in zip(phases, (t4 - t0, t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                phases[name].append(seconds)
    finally:
        box.close()
    p50 = {name: statistics.median(times) * 1000 for name, times in phases.items()}
    p95 = sorted(phases["graded"])[int(0.95 * (RUNS - 1))] * 1000
    print(f"Seed homework graded {RUNS} times (fork server), checkout {ROOT}")
    print(f"graded p50 {p50['graded']:.1f} ms, p95 {p95:.1f} ms; p50 of sandbox {p50['sandbox']:.1f} ms, "
          f"parse {p50['parse']:.1f} ms, expected {p50['expected']:.1f} ms, score {p50['score']:.1f} ms; "
          f"outcome {size / 1024:.0f} KiB")
    print(json.dumps({"graded_p50_ms": round(p50["graded"], 1), "outcome_bytes": size}))


if __name__ == "__main__":
    main()
