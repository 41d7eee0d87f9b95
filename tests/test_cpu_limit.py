"""An endless loop is stopped at the spec's CPU time and told so ("used its N s of CPU time: look for an endless
loop"), on every backend: the soft limit's SIGXCPU reaches the harness, which reports what ran before it."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.spec import load_spec
from worker.grading import grade_source
from worker.sandbox import get_sandbox

ROOT = Path(__file__).resolve().parent.parent
LINEAR = ROOT / "assignments" / "backprop-linear"


@pytest.fixture(scope="module", params=["forkserver", "bwrap"])
def box(request):
    """The session's fork server (tests/conftest.py), or bwrap with the real harness."""
    if request.param == "forkserver":
        yield request.getfixturevalue("sandbox")
        return
    sandbox = get_sandbox(request.param)
    yield sandbox
    sandbox.close()


def _spec(cpu_seconds: int):
    spec = load_spec(LINEAR / "assignment.yaml")
    # a wall clock far beyond the CPU time: the CPU limit must be what ends the loop, even on a loaded host
    limits = spec.limits.model_copy(update={"cpu_seconds": cpu_seconds, "wall_seconds": 90})
    return spec.model_copy(update={"limits": limits})


def _grade(box, source: str, cpu_seconds: int = 3):
    result, report = grade_source(_spec(cpu_seconds), source, box)[:2]
    return result, report, {c.id: c for c in result.checks}


def test_an_endless_loop_before_training_is_told_its_cpu_time(box):
    result, report, checks = _grade(box, "x = 0\nwhile True:\n    x += 1\n")
    assert not report.timed_out and report.outcome.status == "cpu_limit"
    assert checks["runs"].message.render("en") == \
        "Your script used its 3 s of CPU time and was stopped: look for an endless loop."
    assert checks["runs"].message.render("zh") == "你的脚本用完了 3 秒 CPU 时间，被停止了：检查是否有死循环。"
    assert checks["gradients"].message.code == "check.stopped_cpu_limit"
    assert result.score == 0 and result.diagnoses == []
    assert report.wall_seconds < 60  # stopped at the CPU limit (plus the harness's report), not the wall clock


def test_a_loop_after_a_correct_training_keeps_the_trained_steps(box):
    solution = (LINEAR / "solution.py").read_text()
    # 10 s: the bwrap backend imports torch inside the job's own CPU time (2-3 s on a loaded host) before the
    # 300 steps; the loop after them must still be what uses the limit up
    result, report, checks = _grade(box, solution + "\nwhile True:\n    pass\n", cpu_seconds=10)
    assert report.outcome.status == "cpu_limit" and report.outcome.backward_calls == 300
    assert checks["runs"].message.code == "runs.cpu_limit" and not checks["runs"].passed
    assert checks["trace"].passed  # the 300 steps that ran are the reference's
    assert not any("should be" in d.render("en") for d in result.diagnoses)
