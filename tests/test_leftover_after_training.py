"""A parameter re-created after training (`w = torch.Tensor([1.0])` left below the loop) is judged as the
tensor the training used, and named once; a script that re-creates its leaf at every update keeps its own."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.spec import load_spec
from worker.grading import grade_source

ROOT = Path(__file__).resolve().parent.parent

TRAINED = """\
import torch
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.Tensor([1.0])
w.requires_grad = True

def forward(x):
    return x * w

def loss(x, y):
    return (forward(x) - y) ** 2

for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
print('predict (after training)', 4, forward(4).item())
"""


def grade(sandbox, source: str):
    spec = load_spec(ROOT / "assignments" / "backprop-linear" / "assignment.yaml")
    return grade_source(spec, source, sandbox)[0]


@pytest.mark.parametrize("leftover", ["w = torch.Tensor([1.0])\n",
                                      "w = torch.tensor([1.0], requires_grad=True)\nprint(forward(4).item())\n",
                                      "w = 1.0\n"])
def test_a_parameter_re_created_after_training_is_judged_as_trained_and_named_once(sandbox, leftover):
    result = grade(sandbox, TRAINED + leftover)
    assert {c.id: c.message.render("en") for c in result.checks if not c.passed} == {}
    assert result.score == result.max_score
    assert [d.render("en") for d in result.diagnoses] == [
        "You re-create w after training; we judged the w you trained."]
    assert [d.render("zh") for d in result.diagnoses] == ["你在训练之后重新创建了 w；我们评判的是你训练过的那个 w。"]


def test_a_leaf_re_created_at_every_update_is_not_a_leftover(sandbox):
    source = TRAINED.replace("        w.data = w.data - 0.01 * w.grad.data\n        w.grad.data.zero_()\n",
                             "        w = (w - 0.01 * w.grad).detach().requires_grad_()\n")
    result = grade(sandbox, source)
    assert result.diagnoses == [] and result.score == result.max_score


def test_a_parameter_set_to_another_value_after_training_is_judged_as_it_is(sandbox):
    # not the start again: the script meant to change it, and is judged on what it left
    result = grade(sandbox, TRAINED + "with torch.no_grad():\n    w.fill_(5.0)\n")
    assert result.diagnoses == []
    params = next(c for c in result.checks if c.id == "params")
    assert not params.passed and "yours is 5" in params.message.render("en")
