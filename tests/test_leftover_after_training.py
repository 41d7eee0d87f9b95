"""A parameter re-created after training (`w = torch.Tensor([1.0])` left below the loop, or the whole model:
`model = LinearModel()` again for a test) is judged as what the training used, and named once with the line of
the re-creation; a script that re-creates its leaf at every update, or trains a second time, keeps its own."""
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
    line, code = len(TRAINED.splitlines()) + 1, leftover.splitlines()[0]
    assert [d.render("en") for d in result.diagnoses] == [
        f"You re-create w after training, on line {line} ({code}); we judged the w you trained."]
    assert [d.render("zh") for d in result.diagnoses] == [
        f"你在训练之后，在第 {line} 行（{code}）重新创建了 w；我们评判的是你训练过的那个 w。"]


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


MODULE_TRAINED = """\
import torch
x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[2.0], [4.0], [6.0]])

class LinearModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)

model = LinearModel()
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(1000):
    loss = criterion(model(x_data), y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""


def grade_module(sandbox, source: str):
    spec = load_spec(ROOT / "assignments" / "linear-regression-module" / "assignment.yaml")
    return grade_source(spec, source, sandbox)


def test_a_model_re_created_after_training_is_judged_as_trained_with_the_line_named_once(sandbox):
    line = len(MODULE_TRAINED.splitlines()) + 3
    result, report = grade_module(sandbox, MODULE_TRAINED + "\n# test\nmodel = LinearModel()  # fresh\n"
                                           "print(model(torch.Tensor([[4.0]])).item())\n")
    assert {c.id: c.message.render("en") for c in result.checks if not c.passed} == {}
    assert result.score == result.max_score
    assert [d.render("en") for d in result.diagnoses] == [  # one note for the model, not one per parameter
        f"You re-create model after training, on line {line} (model = LinearModel()); we judged the model you "
        "trained."]
    assert report.outcome.replaced == ["model.linear.weight", "model.linear.bias"]


def test_a_model_trained_again_after_its_re_creation_is_a_second_run_not_a_leftover(sandbox):
    loop = MODULE_TRAINED[MODULE_TRAINED.index("model = LinearModel()"):]
    result, report = grade_module(sandbox, MODULE_TRAINED + loop)
    assert report.outcome.runs == [1000, 1000] and report.outcome.replaced == []
    assert [d.code for d in result.diagnoses] == ["note.training_runs"]
    assert result.score == result.max_score


def test_only_a_top_level_binding_after_the_training_statement_is_a_re_creation():
    from worker.harness import rebinding

    source = ("w = 1.0\n"                          # 1
              "for epoch in range(3):\n"           # 2
              "    w = w - 0.1\n"                  # 3: inside the training's own statement
              "    step(w)\n"                      # 4: where training ran
              "def test():\n"                      # 5
              "    w = 0.0\n"                      # 6: a local of test(), not the script's w
              "for w in [0.0, 1.0]:  # try some\n"  # 7
              "    print(w)\n")
    assert rebinding(source, "w", 4) == {"line": 7, "text": "for w in [0.0, 1.0]"}
    assert rebinding(source, "w", 8) is None
    assert rebinding(source, "model", 4) is None


def test_a_model_copied_after_training_holds_what_was_trained_and_gets_no_note(sandbox):
    result, report = grade_module(sandbox, "import copy\n" + MODULE_TRAINED + "model = copy.deepcopy(model)\n")
    assert report.outcome.replaced == [] and result.diagnoses == []
    assert result.score == result.max_score
