"""The harness records the student's own run: every backward()'s parameter values, gradients and samples,
training runs apart, exact counts beyond the recorded steps, large tensors as sketches. Real scripts through
the fork-server sandbox with the real harness."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.sketch import sketch
from grader.spec import load_spec, parse_spec
from worker.grading import grade_source

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).parent / "scripts" / "own_run"
LINEAR_MODULE = ROOT / "assignments" / "linear-regression-module" / "assignment.yaml"


def outcome_of(sandbox, spec, source: str):
    _, report = grade_source(spec, source, sandbox)
    assert report.outcome is not None, report.outcome_error
    return report.outcome


def rows(step, samples: int) -> list[list[int]]:
    return [c.indices(samples) for c in step.batch]


def test_every_step_records_values_before_the_update_grads_and_its_sample(sandbox):
    spec = load_spec(ROOT / "assignments" / "backprop-quadratic" / "assignment.yaml")
    o = outcome_of(sandbox, spec, (ROOT / "assignments" / "backprop-quadratic" / "solution.py").read_text())
    assert o.backward_calls == 300 and o.runs == [300] and len(o.trace) == 300
    first, second = o.trace[0], o.trace[1]
    assert first.values["w1"].array().tolist() == [1.0]
    # the value at step 2 is the value after step 1's update: w1 - 0.01 * grad
    np.testing.assert_allclose(second.values["w1"].array(), 1.0 - 0.01 * first.grads["w1"].array(), rtol=1e-6)
    # x = 1.0 is sample 0 (y = 2.0 equals x's sample 1, and x_data is all three: the grader tries each)
    assert [0] in rows(first, 3) and [1] in rows(o.trace[1], 3) and [2] in rows(o.trace[2], 3)
    assert all(step.run == 0 for step in o.trace)


def test_several_training_runs_in_one_script_are_counted_apart(sandbox):
    spec = load_spec(LINEAR_MODULE)
    o = outcome_of(sandbox, spec, (SCRIPTS / "seven_optimisers.py").read_text())
    assert o.backward_calls == 3500
    assert o.runs == [500] * 7
    # recording stops at its byte or time budget (RECORD_SECONDS, which a loaded host can reach before the 7th
    # run); every step recorded until then belongs to the run its call falls in
    assert len(o.trace) > 502 and all(s.run == i // 500 for i, s in enumerate(o.trace))
    assert rows(o.trace[0], 3) == [[0, 1, 2]]  # full batch


def test_calls_beyond_the_recorded_steps_are_counted_exactly(sandbox):
    spec = load_spec(ROOT / "assignments" / "backprop-linear" / "assignment.yaml")
    o = outcome_of(sandbox, spec, (SCRIPTS / "ten_thousand_epochs.py").read_text())
    assert o.backward_calls == 30_000 and o.runs == [30_000]
    assert o.trace_truncated and 0 < len(o.trace) < 30_000


def test_shuffled_minibatches_record_which_samples_each_step_used(sandbox):
    spec = parse_spec(LINEAR_MODULE.read_text().replace(
        "data: {x: [[1.0], [2.0], [3.0]], y: [[2.0], [4.0], [6.0]]}",
        "data: {x: [[1.0], [2.0], [3.0], [4.0]], y: [[2.0], [4.0], [6.0], [8.0]]}"), base_dir=LINEAR_MODULE.parent)
    o = outcome_of(sandbox, spec, (SCRIPTS / "shuffled_minibatches.py").read_text())
    assert o.backward_calls == 100
    # each step's candidates hold its batch of 2 (beside look-alikes, such as the labels read as x); the grader
    # keeps the one at which the gradient matches
    pairs = [[r for r in rows(step, 4) if len(r) == 2] for step in o.trace]
    epochs = [next((a, b) for a in pairs[2 * e] for b in pairs[2 * e + 1] if sorted(a + b) == [0, 1, 2, 3])
              for e in range(50)]
    assert len({tuple(a) for a, _ in epochs}) > 2  # shuffled: not the same two batches every epoch


def test_a_tensor_too_large_to_record_is_sketched_like_numpy_sketches_it(sandbox):
    spec = load_spec(ROOT / "assignments" / "backprop-linear" / "assignment.yaml")
    source = (
        "import torch\n"
        "big = torch.arange(5000, dtype=torch.float32).reshape(50, 100).div(1000).requires_grad_()\n"
        "(big ** 2).sum().backward()\n"
    )
    o = outcome_of(sandbox, spec, source)
    value = o.trace[0].values["big"]
    assert value.too_large and value.data is None
    expected = np.arange(5000, dtype=np.float32).astype(np.float64) / 1000
    np.testing.assert_allclose([float(v) for v in value.sketch], sketch(expected), rtol=1e-5)
    np.testing.assert_allclose(float(value.norm), np.linalg.norm(expected), rtol=1e-6)
    np.testing.assert_allclose([float(v) for v in o.trace[0].grads["big"].sketch], sketch(2 * expected), rtol=1e-5)


def test_the_same_script_draws_the_same_random_state_in_every_job(sandbox):
    spec = load_spec(LINEAR_MODULE)
    source = "import torch, random, numpy\nprint(torch.rand(2).tolist(), random.random(), numpy.random.rand())\n" \
             "torch.manual_seed(99)\n"
    outputs = {grade_source(spec, source, sandbox)[1].stdout for _ in range(3)}
    assert len(outputs) == 1


def test_a_whole_data_set_trained_on_at_every_step_is_recorded_once_and_every_step_reads_it(sandbox):
    """Issue 14: targets of the student's own on the lecture's x (y = 2x + 1), the whole data set at every step:
    the harness keeps the step's small inputs once (later steps say `own_same`), and every parsed step has them,
    so each is verified on the student's targets."""
    import json

    from grader.outcome import parse_outcome
    from grader.plan import build_plan
    from worker.grading import limits_for
    from worker.sandbox.base import Job

    spec = load_spec(LINEAR_MODULE)
    source = (ROOT / "tests" / "corpus" / "lecture5" / "own_targets_full_batch.py").read_text()
    result = sandbox.run(Job(source=source, plan=build_plan(spec), filename="hw.py"), limits_for(spec))
    raw = json.loads(result.outcome_raw)["trace"]
    assert len(raw) == 1000 and len(raw[0]["own"]) == 2 and all(s.get("own_same") and "own" not in s for s in raw[1:])
    o = parse_outcome(result.outcome_raw)
    targets = [sorted(np.ravel(t.array()).tolist()) for t in o.trace[999].own]
    assert [1.0, 2.0, 3.0] in targets and [3.0, 5.0, 7.0] in targets
    assert all(step.own == o.trace[0].own for step in o.trace)


def test_a_step_on_the_assignment_s_data_records_only_small_inputs(sandbox):
    """The lecture's own data set (the course's 759 diabetes rows in batches of 32) is larger than the bound
    on a matched step's inputs: nothing is kept beside the batch, so the trace keeps its room for steps."""
    spec = load_spec(ROOT / "assignments" / "multiple-dimension-input" / "assignment.yaml")
    source = (ROOT / "assignments" / "multiple-dimension-input" / "solution.py").read_text()
    o = outcome_of(sandbox, spec, source)
    assert o.trace and all(not step.own for step in o.trace)


def test_a_list_of_arrays_changed_in_place_is_recorded_at_every_step(sandbox):
    """`recent[i] = np.array(...)`: comparing such a list with its copy by == raises (an array's truth value is
    ambiguous); the recorder raised there and recorded 5 of 300 steps."""
    spec = load_spec(ROOT / "assignments" / "backprop-linear" / "assignment.yaml")
    o = outcome_of(sandbox, spec, (SCRIPTS / "linear_recent_arrays_in_place.py").read_text())
    assert o.backward_calls == 300 and len(o.trace) == 300 and not o.recorder_errors
    assert all([k % 3] in rows(step, 3) for k, step in enumerate(o.trace))


FLAKY_RECORDER = """
import gc
recorder = next(o for o in gc.get_objects() if type(o).__name__ == "GradientRecorder")
recording = type(recorder)._before


def flaky(self, tensors):
    if self.calls == 5:
        raise RuntimeError("recording failed at call 5")
    return recording(self, tensors)


type(recorder)._before = flaky
"""


def test_a_step_the_recorder_failed_on_keeps_its_place_in_the_trace(sandbox):
    """A step's place in the trace is its backward() call: a step lost to a recording error shifted every later one."""
    spec = load_spec(ROOT / "assignments" / "backprop-linear" / "assignment.yaml")
    solution = (ROOT / "assignments" / "backprop-linear" / "solution.py").read_text()
    o = outcome_of(sandbox, spec, FLAKY_RECORDER + solution)
    assert o.backward_calls == 300 and o.runs == [300] and len(o.trace) == 300
    assert o.recorder_errors == ["RuntimeError: recording failed at call 5"]
    assert o.trace[4].values == {} and o.trace[4].grads == {}
    # call 6 is sample 2 of epoch 2, in its place, with w after five updates
    assert [2] in rows(o.trace[5], 3) and o.trace[5].values["w"].array().shape == (1,)
    np.testing.assert_allclose(o.trace[5].values["w"].array(),
                               o.trace[6].values["w"].array() + 0.01 * o.trace[5].grads["w"].array(), rtol=1e-6)
    result, _ = grade_source(spec, FLAKY_RECORDER + solution, sandbox)
    assert result.score == result.max_score, [c.message.render("en") for c in result.checks if not c.passed]
