"""Tensor assignments through the real fork-server sandbox: nn.Module models, student-owned initial values,
data files in the working directory, hand-computed gradients, accuracy, worst-entry feedback.
(Each shipped mistake is graded by tests/test_grading.py, whose glob covers every assignment.)"""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.expected import expected_for
from grader.messages import said
from grader.spec import load_spec
from worker.grading import grade_source

ASSIGNMENTS = Path(__file__).resolve().parent.parent / "assignments"
NEW = ["gradient-descent", "linear-regression-module", "logistic-regression", "multiple-dimension-input"]


def spec_and_solution(name: str):
    return load_spec(ASSIGNMENTS / name / "assignment.yaml"), (ASSIGNMENTS / name / "solution.py").read_text()


@pytest.mark.parametrize("name", NEW)
def test_each_new_solution_scores_full_marks(sandbox, name):
    spec, source = spec_and_solution(name)
    result, _ = grade_source(spec, source, sandbox)
    assert [(c.id, c.message.render()) for c in result.checks if not c.passed] == []
    assert result.score == result.max_score and result.diagnoses == []


def test_any_random_initialisation_is_followed_by_the_reference(sandbox):
    spec, source = spec_and_solution("multiple-dimension-input")
    reseeded = source.replace("model = Model()", "torch.manual_seed(1234)\nmodel = Model()")
    result, report = grade_source(spec, reseeded, sandbox)
    assert result.score == result.max_score
    first = report.outcome.trace[0].values["model.linear1.weight"].array()
    assert expected_for(spec, report).run.steps[0].params["model.linear1.weight"].ravel().tolist() == first.tolist()


def test_the_reference_is_cached_per_initial_values(sandbox):
    spec, source = spec_and_solution("linear-regression-module")
    _, one = grade_source(spec, source, sandbox)
    _, same = grade_source(spec, source, sandbox)
    _, other = grade_source(spec, source.replace("model = LinearModel()", "torch.manual_seed(9)\nmodel = LinearModel()"),
                            sandbox)
    assert expected_for(spec, one) is expected_for(spec, same)  # seed: 0 in the spec: the same values
    assert expected_for(spec, one) is not expected_for(spec, other)


def test_the_spec_seed_is_set_before_the_script_runs(sandbox):
    spec, source = spec_and_solution("linear-regression-module")
    probe = "import torch\nprint('draw', torch.rand(1).item())\n"
    first, _ = grade_source(spec, probe, sandbox)
    second, _ = grade_source(spec, probe, sandbox)
    import torch

    torch.manual_seed(0)
    assert first.stdout == second.stdout == f"draw {torch.rand(1).item()}\n"


def test_the_data_file_is_in_the_working_directory_read_only(sandbox):
    spec, _ = spec_and_solution("multiple-dimension-input")
    script = ("import os, numpy as np\nxy = np.loadtxt('diabetes.csv', delimiter=',')\nprint(xy.shape)\n"
              "try:\n    open('diabetes.csv', 'a')\nexcept PermissionError:\n    print('read-only')\n"
              "print(sorted(os.listdir('.')))\n")
    result, _ = grade_source(spec, script, sandbox)
    lines = result.stdout.splitlines()
    assert lines[0] == "(60, 9)" and lines[1] == "read-only"
    assert "diabetes_test.csv" not in lines[2]  # the held-out set never enters the sandbox


def test_a_wrong_matrix_gradient_names_the_worst_entry(sandbox):
    spec, _ = spec_and_solution("multiple-dimension-input")
    source = (ASSIGNMENTS / "multiple-dimension-input" / "mistakes" / "relu_hidden.py").read_text()
    result, _ = grade_source(spec, source, sandbox)
    gradients = next(c for c in result.checks if c.kind == "gradients")
    params = gradients.message.params
    assert gradients.message.code == "gradients.mismatch"
    assert params["param"].startswith("model.linear") and isinstance(params["index"], list)
    assert isinstance(params["expected"], float) and isinstance(params["got"], float)
    assert f"{params['param']}[" in gradients.message.render()
    assert params["x"] == said("value.samples", n=60)


def test_a_hand_gradient_that_is_wrong_is_diagnosed_with_the_function(sandbox):
    spec, _ = spec_and_solution("gradient-descent")
    source = (ASSIGNMENTS / "gradient-descent" / "mistakes" / "wrong_gradient.py").read_text()
    result, _ = grade_source(spec, source, sandbox)
    check = next(c for c in result.checks if c.id == "gradient")
    assert check.message.code == "function.mismatch" and check.points == 0
    assert [d.code for d in result.diagnoses] == ["mistake.wrong_hand_gradient"]
    assert "gradient()" in result.diagnoses[0].render()


@pytest.mark.parametrize("body, error", [
    ("def gradient(xs, ys):\n    raise ValueError('nope')\n", "ValueError: nope"),
    ("def gradient(xs, ys):\n    return 'two'\n", "returned str, not a number or a tensor"),
    ("gradient = 3\n", "is a int, not a function"),
])
def test_a_broken_student_function_is_reported_not_a_crash(sandbox, body, error):
    spec, source = spec_and_solution("gradient-descent")
    start = source.index("def gradient")
    end = source.index("epoch_list = []")
    result, report = grade_source(spec, source[:start] + body + "\n\n" + source[end:].replace("gradient(x_data, y_data)", "0.0"), sandbox)
    assert report.outcome.status == "ok"
    check = next(c for c in result.checks if c.id == "gradient")
    assert check.message.code == "function.error" and error in check.message.render()


def test_accuracy_below_the_threshold_fails_with_the_share(sandbox):
    spec, source = spec_and_solution("logistic-regression")
    # untrained, and set to say "pass" for everyone: right on exactly the 3 passing samples of the 6 held out
    untrained = source.replace("range(1000)", "range(0)").replace(
        "criterion = ", "torch.nn.init.zeros_(model.linear.weight)\ntorch.nn.init.constant_(model.linear.bias, 5.0)\n"
                        "criterion = ", 1)
    result, _ = grade_source(spec, untrained, sandbox)
    accuracy = next(c for c in result.checks if c.kind == "accuracy")
    assert not accuracy.passed and accuracy.message.code == "accuracy.low" and accuracy.points == 0
    assert accuracy.message.params == {"right": 3, "samples": 6, "percent": 50.0, "needed": 75.0, "threshold": 0.75}
