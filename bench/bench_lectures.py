"""Per-lecture benchmark: each shipped assignment's solution graded end to end with the fork server (the sandbox
run, parsing the outcome, the expected values and scoring), RUNS times after a warm-up. Prints one row per
assignment: backward() calls, graded p50 and p95, and the outcome's size.
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 10


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from grader.spec import load_spec
    from worker.grading import grade_source
    from worker.sandbox import get_sandbox

    box = get_sandbox("forkserver")
    rows = []
    try:
        for folder in sorted(p.parent for p in (ROOT / "assignments").glob("*/assignment.yaml")):
            spec, source = load_spec(folder / "assignment.yaml"), (folder / "solution.py").read_text()
            grade_source(spec, source, box)  # warm-up: the spec's expected values are cached after it
            times, calls = [], 0
            for _ in range(RUNS):
                started = time.perf_counter()
                result, report = grade_source(spec, source, box)
                times.append(time.perf_counter() - started)
                assert result.score == result.max_score, (folder.name, result.score)
                calls = report.outcome.backward_calls if report.outcome else 0
            times.sort()
            rows.append((folder.name, calls, statistics.median(times) * 1000, times[int(0.95 * (RUNS - 1))] * 1000))
    finally:
        box.close()
    print(f"Each shipped solution graded {RUNS} times (fork server), checkout {ROOT}")
    print(f"{'assignment':<28} {'backward()':>10} {'p50 ms':>8} {'p95 ms':>8}")
    for name, calls, p50, p95 in rows:
        print(f"{name:<28} {calls:>10} {p50:>8.0f} {p95:>8.0f}")
