"""A run that computes its gradients by hand (lecture 3, no backward()) is recorded from the calls of the student's
gradient function and judged as an autograd run is: its lr, epochs, batch and data read from the calls (epochs
from their exact count), each deviation named once with its numbers, and no guess from where w ended."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.outcome import MAX_TRACE_STEPS, OutcomeError, parse_outcome
from grader.plan import build_plan
from grader.spec import load_spec
from worker.grading import grade_source

ROOT = Path(__file__).resolve().parent.parent
SPEC = load_spec(ROOT / "assignments" / "gradient-descent" / "assignment.yaml")

HEAD = """\
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = 1.0


def forward(x):
    return x * w


def cost(xs, ys):
    return sum((forward(x) - y) ** 2 for x, y in zip(xs, ys)) / len(xs)


def gradient(xs, ys):
    return sum(2 * x * (x * w - y) for x, y in zip(xs, ys)) / len(xs)


"""


def grade(sandbox, loop: str):
    result, report = grade_source(SPEC, HEAD + loop, sandbox)
    failed = {c.id for c in result.checks if not c.passed}
    diagnoses = [d.render("en") for d in result.diagnoses]
    return result, report, failed, diagnoses


def test_the_plan_names_the_gradient_function_only_for_a_run_by_hand():
    assert build_plan(SPEC)["hand_gradient"] == "gradient"
    autograd = load_spec(ROOT / "assignments" / "backprop-linear" / "assignment.yaml")
    assert build_plan(autograd)["hand_gradient"] is None


def test_every_call_of_the_gradient_function_is_a_step_with_w_at_the_call_and_what_it_returned(sandbox):
    result, report, failed, diagnoses = grade(sandbox, "for epoch in range(100):\n"
                                                       "    w -= 0.01 * gradient(x_data, y_data)\n")
    o = report.outcome
    assert o.hand_calls == 100  # the probes after the run call gradient() too: they are not counted
    assert len(o.hand_trace) == 100 and o.backward_calls == 0 and o.trace == []
    first, second = o.hand_trace[0], o.hand_trace[1]
    assert first.values["w"].array().tolist() == [1.0]
    assert first.grads["w"].array().tolist() == pytest.approx([-28 / 3])
    assert second.values["w"].array().tolist() == pytest.approx([1.0 + 0.01 * 28 / 3])
    assert [c.rows for c in first.batch] == [[(0, 3)]]
    assert result.score == result.max_score and failed == set() and diagnoses == []


def test_a_gradient_function_of_another_name_is_the_one_recorded(sandbox):
    source = HEAD.replace("def gradient(", "def grad(") + ("for epoch in range(100):\n"
                                                           "    gradient = grad(x_data, y_data)\n"
                                                           "    w -= 0.01 * gradient\n")
    result, report = grade_source(SPEC, source, sandbox)
    assert report.outcome.hand_calls == 100 and len(report.outcome.hand_trace) == 100
    assert not any("epochs" in d.render("en") or "learning rate" in d.render("en") for d in result.diagnoses)


def test_a_longer_run_is_counted_exactly_beyond_the_recorded_steps_and_named_once(sandbox):
    result, report, failed, diagnoses = grade(sandbox, "for epoch in range(25000):\n"
                                                       "    w -= 0.01 * gradient(x_data, y_data)\n")
    assert report.outcome.hand_calls == 25000
    assert len(report.outcome.hand_trace) < 25000 and report.outcome.hand_truncated
    assert diagnoses == ["You train for 25000 epochs; the assignment asks for 100."]
    # within the replay's bound (student_run.MAX_REPLAY_STEPS): w is held against 25000 epochs replayed
    assert failed == {"training"}


def test_another_learning_rate_is_read_from_the_updates_not_guessed_from_the_final_w(sandbox):
    result, _, failed, diagnoses = grade(sandbox, "for epoch in range(100):\n"
                                                  "    grad_val = gradient(x_data, y_data)\n"
                                                  "    w = w - 0.05 * grad_val\n")
    assert diagnoses == ["Your learning rate looks like 0.05; the assignment uses 0.01."]
    assert failed == {"training"} and result.score == 97.5  # the lr's share only: params are replayed at 0.05
    training = next(c for c in result.checks if c.id == "training")
    assert training.message.render("en").startswith("Your training follows the assignment in 3 of 4 graded respects")


def test_an_update_per_sample_by_hand_is_a_batch_deviation_with_the_epochs_right(sandbox):
    _, _, failed, diagnoses = grade(sandbox, "for epoch in range(100):\n"
                                             "    for x, y in zip(x_data, y_data):\n"
                                             "        w -= 0.01 * gradient([x], [y])\n")
    assert failed == {"training"}  # gradient([x], [y]) is the right gradient of that batch
    assert diagnoses == ["You update after every sample (stochastic gradient descent, batches of 1); this "
                         "assignment updates once per epoch, on one batch of all 3 samples."]


def test_climbing_the_gradient_by_hand_is_named(sandbox):
    _, _, _, diagnoses = grade(sandbox, "for epoch in range(100):\n"
                                        "    w += 0.01 * gradient(x_data, y_data)\n")
    assert [d.split(":")[0] for d in diagnoses] == ["Your update climbs the gradient instead of descending it"]


def test_a_stop_after_the_loop_by_hand_judges_the_training_that_ran(sandbox):
    result, _, failed, _ = grade(sandbox, "for epoch in range(100):\n"
                                          "    w -= 0.01 * gradient(x_data, y_data)\n"
                                          "print(forwrad(4))\n")
    assert failed == {"runs"}
    assert "before its training began" not in "\n".join(c.message.render("en") for c in result.checks)


def test_the_deviation_reads_in_chinese_too(sandbox):
    result, _, _, _ = grade(sandbox, "for epoch in range(1000):\n    w -= 0.01 * gradient(x_data, y_data)\n")
    zh = [d.render("zh") for d in result.diagnoses]
    assert len(zh) == 1 and "1000" in zh[0] and "100" in zh[0]


def test_a_forged_record_longer_than_the_harness_keeps_is_refused():
    step = {"values": {"w": {"shape": [], "data": [1.0]}}, "grads": {"w": {"shape": [], "data": [0.5]}}}
    raw = {"status": "ok", "hand_calls": 1, "hand_trace": [step] * (MAX_TRACE_STEPS + 1)}
    with pytest.raises(OutcomeError):
        parse_outcome(json.dumps(raw).encode())
    ok = parse_outcome(json.dumps({**raw, "hand_trace": [step]}).encode())
    assert ok.as_trained(False).runs == [1] and ok.as_trained(True) is ok


def test_a_w_rebound_by_a_loop_after_training_by_hand_is_judged_as_trained_with_its_line(sandbox):
    loop = ("for epoch in range(100):\n"
            "    w -= 0.01 * gradient(x_data, y_data)\n"
            "print('predict (after training)', 4, forward(4))\n"
            "for w in [0.0, 2.0, 4.0]:  # lecture 2: try every w\n"
            "    print(w, cost(x_data, y_data))\n")
    result, report, failed, diagnoses = grade(sandbox, loop)
    line = len(HEAD.splitlines()) + 4
    assert failed == set() and result.score == result.max_score  # not "w should be 1.99994; yours is 4"
    assert diagnoses == [f"You re-create w after training, on line {line} (for w in [0.0, 2.0, 4.0]); we judged "
                         "the w you trained."]
    assert report.outcome.replaced == ["w"]


def test_a_w_changed_inside_the_training_statement_is_no_leftover(sandbox):
    _, report, _, diagnoses = grade(sandbox, "for epoch in range(100):\n"
                                             "    w -= 0.01 * gradient(x_data, y_data)\n"
                                             "    print(epoch, w)\n")
    assert report.outcome.replaced == [] and diagnoses == []
