"""How grading cost grows: graded time against the trace's length and against the model's size, and what the
reference run costs a submission of an `init: student` spec.

Trace length: the seed homework (backprop-quadratic, 3 samples per epoch) at 100, 1,000 and 10,000 epochs, both
the spec and the script: 300, 3,000 and 30,000 backward() calls. Model size: the shipped 8→6→4→1 network
(multiple-dimension-input, 100 full-batch epochs), widened to 8→64→64→1 (4,801 parameters, the widest a
spec can state) and a script of 8→300→300→1 (93,301 parameters; see MAX_SPEC_WIDTH). Each row: graded p50 and the p50 of its phases (sandbox run, parsing the outcome, the expected
values, scoring) and the outcome's size.

`init: student` specs train the reference from each student's own random initial values, so every new
submission misses the expected-values cache (a regrade of the same file hits it): the last table gives the
expected values' cost cold (a new student's values) and warm (the same values again) per model size.
"""
from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
WIDE = 300  # hidden width of the wide network: 8·300 + 300 + 300·300 + 300 + 300 + 1 = 93,301 parameters
# A spec's parameter has at most grader.outcome.MAX_TENSOR_ELEMENTS (4096) elements, the largest tensor the harness
# records whole: 8→64→64→1 is the widest network a spec can state. The 8→300→300→1 script runs against the
# shipped 8→6→4→1 spec: its row measures recording (larger tensors as sketches) and parsing; its score is not a
# grade.
MAX_SPEC_WIDTH = 64


def _variant(folder: Path, into: Path, replacements: list[tuple[str, str]]) -> tuple[Path, str]:
    """A copy of a shipped assignment with its spec and solution edited; returns (spec path, solution)."""
    into.mkdir(parents=True)  # `into` ends with the assignment's id: a spec must live in a folder of its name
    for data in folder.glob("*.csv*"):
        shutil.copy(data, into / data.name)
    spec, solution = (folder / "assignment.yaml").read_text(), (folder / "solution.py").read_text()
    for old, new in replacements:
        assert old in spec or old in solution, f"{old!r} is in neither the spec nor the solution of {folder.name}"
        spec, solution = spec.replace(old, new), solution.replace(old, new)
    (into / "assignment.yaml").write_text(spec)
    return into / "assignment.yaml", solution


def _cases(tmp: Path) -> list[tuple[str, Path, str]]:
    quadratic, network = ROOT / "assignments" / "backprop-quadratic", ROOT / "assignments" / "multiple-dimension-input"
    cases = []
    for epochs in (100, 1000, 10000):
        spec, source = _variant(quadratic, tmp / f"{epochs}" / quadratic.name, [
            ("epochs: 100", f"epochs: {epochs}"), ("range(100)", f"range({epochs})"),
            # 30,000 printed lines would only measure the output cap
            ("        print('\\tgrad:'", "        if False: print('\\tgrad:'")])
        cases.append((f"trace {3 * epochs} calls", spec, source))
    spec, source = _variant(network, tmp / "narrow" / network.name, [])
    cases.append(("model 8→6→4→1 (87 params)", spec, source))
    for width, count in ((64, "4,801"), (WIDE, "93,301")):
        spec, source = _variant(network, tmp / str(width) / network.name, [
            ("Linear(8, 6)", f"Linear(8, {width})"), ("Linear(6, 4)", f"Linear({width}, {width})"),
            ("Linear(4, 1)", f"Linear({width}, 1)")] + ([] if width > MAX_SPEC_WIDTH else [
            ("shape: [6, 8]", f"shape: [{width}, 8]"), ("shape: [6]", f"shape: [{width}]"),
            ("shape: [4, 6]", f"shape: [{width}, {width}]"), ("shape: [4]", f"shape: [{width}]"),
            ("shape: [1, 4]", f"shape: [1, {width}]")]))
        cases.append((f"model 8→{width}→{width}→1 ({count} params)", spec, source))
    return cases


def _reference_cost(spec, source: str, box) -> tuple[float, float]:
    """The expected values of an `init: student` spec for one student: cold (cache cleared), then warm."""
    from grader.expected import _expected_cached, expected_for
    from grader.plan import build_plan
    from worker.grading import limits_for, report_from
    from worker.sandbox import Job

    limits = limits_for(spec)
    report = report_from(box.run(Job(source=source, plan=build_plan(spec)), limits), limits)
    cold, warm = [], []
    for _ in range(RUNS):
        _expected_cached.cache_clear()
        t0 = time.perf_counter()
        expected_for(spec, report)
        t1 = time.perf_counter()
        expected_for(spec, report)
        t2 = time.perf_counter()
        cold.append(t1 - t0)
        warm.append(t2 - t1)
    return statistics.median(cold), statistics.median(warm)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench import graded_in_phases
    from grader.spec import load_spec
    from worker.sandbox import get_sandbox

    box = get_sandbox("forkserver")
    rows, reference = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for label, spec_path, source in _cases(Path(tmp)):
                spec = load_spec(spec_path)
                graded_in_phases(spec, source, box)  # warm-up: the fork server and the expected-values cache
                runs = [graded_in_phases(spec, source, box) for _ in range(RUNS)]
                rows.append((label, {k: statistics.median(r[k] for r in runs) for k in runs[0]}))
                if spec.model.student_init and runs[0]["share"] == 1.0:  # a reference for this script's model
                    reference.append((label, *_reference_cost(spec, source, box)))
    finally:
        box.close()
    print(f"Graded {RUNS} times each after a warm-up (fork server), p50 ms; checkout {ROOT}")
    print(f"{'case':<34} {'graded':>8} {'sandbox':>8} {'parse':>7} {'expected':>9} {'score':>7} {'outcome':>9} "
          f"{'score %':>7}")
    for label, r in rows:
        print(f"{label:<34} {r['graded'] * 1000:>8.0f} {r['sandbox'] * 1000:>8.0f} {r['parse'] * 1000:>7.0f} "
              f"{r['expected'] * 1000:>9.0f} {r['score'] * 1000:>7.0f} {r['bytes'] / 1024:>7.0f} KiB "
              f"{r['share'] * 100:>7.1f}")
    print()
    print("init: student: the reference run per new student (cold) and per regrade of the same values (warm), ms")
    print(f"{'case':<34} {'cold':>8} {'warm':>8}")
    for label, cold, warm in reference:
        print(f"{label:<34} {cold * 1000:>8.1f} {warm * 1000:>8.3f}")


if __name__ == "__main__":
    main()
