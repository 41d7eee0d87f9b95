"""Recording benchmark: what recording the student's own run (every step's parameters, gradients and samples)
costs on the seed homework (backprop-quadratic, 300 backward() calls), graded end to end with the fork server.

Prints the graded p50 and p95 and, per phase, the p50 of the sandbox run, parsing the outcome, the expected values
and scoring, plus the outcome's size. Run it on two checkouts (PYTHONPATH=<checkout>) to compare them.
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 40


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench import graded_in_phases
    from grader.spec import load_spec
    from worker.grading import grade_source
    from worker.sandbox import get_sandbox

    folder = ROOT / "assignments" / "backprop-quadratic"
    spec, source = load_spec(folder / "assignment.yaml"), (folder / "solution.py").read_text()
    box = get_sandbox("forkserver")
    phases: dict[str, list[float]] = {"graded": [], "sandbox": [], "parse": [], "expected": [], "score": []}
    size = 0
    try:
        grade_source(spec, source, box)  # warm-up: starts the fork server, caches the spec's expected values
        for _ in range(RUNS):
            timed = graded_in_phases(spec, source, box)
            assert timed["share"] == 1.0, timed["share"]
            size = timed["bytes"]
            for name in phases:
                phases[name].append(timed[name])
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
