"""Names by role: a spec name the script lacks is matched to the student's own leaf or function (by shape, name
and kind) and said as a note that costs nothing; equal fits are listed, never guessed; `names: strict` turns
it off. The matching itself (worker/harness.py) is tested directly; the rest end to end in the sandbox."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from grader.spec import load_spec
from worker.grading import grade_source
from grader.plan import build_plan
from worker.harness import STAND_IN_NAME, find_function, match_by_shape, stand_in_loss

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "corpus"


def test_underscored_names_pair_with_the_specs():
    found, undecided = match_by_shape({"w1": (), "w2": ()}, {"w_2": (1,), "w_1": (1,)})
    assert found == {"w1": "w_1", "w2": "w_2"} and undecided == {}


def test_a_leaf_alone_of_its_shape_is_matched_whatever_its_name():
    found, _ = match_by_shape({"w": ()}, {"权重": (1,)})
    assert found == {"w": "权重"}


def test_layers_are_matched_by_their_exact_shapes_first():
    spec = {"m.linear2.bias": (4,), "m.linear3.weight": (1, 4)}
    found, _ = match_by_shape(spec, {"m.4.weight": (1, 4), "m.2.bias": (4,)})
    assert found == {"m.linear2.bias": "m.2.bias", "m.linear3.weight": "m.4.weight"}


def test_names_that_fit_equally_are_left_undecided_with_the_candidates():
    found, undecided = match_by_shape({"w1": (), "w2": ()}, {"a": (1,), "c": (1,)})
    assert found == {} and undecided == {"w1": ["a", "c"], "w2": ["a", "c"]}


def forword(x):
    return x


def test_a_misspelled_function_of_the_script_is_found():
    namespace = {"forword": forword, "torch": torch}
    assert find_function(namespace, "forward", "forward", __file__, set()) == ("forword", [])


ZH_FUNCTIONS = """
w = 1.0
def 前向(x):
    return x * w
def 损失(x, y):
    return (前向(x) - y) ** 2
def 画图(losses):
    print(losses)
"""


def test_functions_named_in_another_language_play_their_roles_by_what_they_read():
    namespace: dict = {}
    exec(compile(ZH_FUNCTIONS, __file__, "exec"), namespace)
    taken = {"forward", "loss"}
    assert find_function(namespace, "forward", "forward", __file__, taken, {"w"}) == ("前向", [])
    assert find_function(namespace, "loss", "loss", __file__, taken, {"w", "前向"}) == ("损失", [])
    # without knowing where the parameters live, nothing is guessed (by hand: cost and gradient read alike)
    assert find_function(namespace, "forward", "forward", __file__, taken) == (None, [])


def test_the_one_loss_object_plays_the_loss_and_two_are_listed():
    namespace = {"critizer": torch.nn.MSELoss(), "model": torch.nn.Linear(1, 1)}
    assert find_function(namespace, "criterion", "loss", __file__, {"model"}) == ("critizer", [])
    namespace["Loss"] = torch.nn.L1Loss()
    assert find_function(namespace, "criterion", "loss", __file__, {"model"}) == (None, ["Loss", "critizer"])


def test_the_specs_torch_loss_stands_in_for_a_script_without_a_loss_object():
    plans = {name: build_plan(load_spec(ROOT / "assignments" / name / "assignment.yaml"))["loss_stand_in"]
             for name in ("logistic-regression", "multiple-dimension-input", "backprop-quadratic")}
    assert plans == {"logistic-regression": {"kind": "bce", "reduction": "sum"},
                     "multiple-dimension-input": {"kind": "bce", "reduction": "mean"},
                     "backprop-quadratic": None}  # a loss written out is the student's own function to define
    namespace: dict = {}
    assert stand_in_loss(namespace, plans["logistic-regression"]) == "torch.nn.BCELoss(reduction='sum')"
    loss = namespace[STAND_IN_NAME](torch.tensor([0.25, 0.5]), torch.tensor([0.0, 1.0]))
    assert loss.item() == pytest.approx(-torch.log(torch.tensor([0.75, 0.5])).sum().item())
    assert stand_in_loss({}, None) is None and stand_in_loss({}, {"kind": "os.system", "reduction": "sum"}) is None


def test_a_function_imported_from_elsewhere_is_not_taken_for_the_students():
    namespace = {"forward_hook": torch.nn.functional.relu}
    assert find_function(namespace, "forward", "forward", __file__, set()) == (None, [])


@pytest.fixture(scope="module")
def quadratic():
    return load_spec(ROOT / "assignments" / "backprop-quadratic" / "assignment.yaml")


def test_w_1_is_read_as_w1_with_a_note_and_full_marks(sandbox, quadratic):
    result, _ = grade_source(quadratic, (CORPUS / "lecture4" / "w_underscore_names.py").read_text(), sandbox)
    assert result.score == result.max_score
    notes = [d for d in result.diagnoses if d.code == "note.name_read_as"]
    assert [n.params for n in notes] == [{"yours": "w_1", "ours": "w1"}, {"yours": "w_2", "ours": "w2"}]
    assert notes[0].render("en") == "We read your w_1 as w1: the assignment's name for it."
    assert notes[0].render("zh") == "我们把你的 w_1 当作作业里的 w1 来评分。"


def test_names_strict_grades_the_specs_names_only(sandbox, quadratic):
    strict = quadratic.model_copy(update={"names": "strict"})
    result, _ = grade_source(strict, (CORPUS / "lecture4" / "w_underscore_names.py").read_text(), sandbox)
    assert result.score < result.max_score
    assert "note.name_read_as" not in {d.code for d in result.diagnoses}
    assert "mistake.missing_param" in {d.code for d in result.diagnoses}


def test_a_spec_says_names_strict(tmp_path):
    text = (ROOT / "assignments" / "backprop-linear" / "assignment.yaml").read_text()
    (tmp_path / "backprop-linear").mkdir()
    path = tmp_path / "backprop-linear" / "assignment.yaml"
    path.write_text(text.replace("training:", "names: strict\ntraining:", 1))
    assert load_spec(path).names == "strict"
    assert load_spec(ROOT / "assignments" / "backprop-linear" / "assignment.yaml").names == "by_role"


def test_parameters_that_fit_a_symmetric_model_equally_are_listed_not_guessed(sandbox, tmp_path):
    text = (ROOT / "assignments" / "backprop-quadratic" / "assignment.yaml").read_text()
    text = text.replace("params: {w1: 1.0, w2: 1.0, b: 1.0}", "params: {w1: 1.0, w2: 1.0}")
    text = text.replace('forward: "w1 * x**2 + w2 * x + b"', 'forward: "w1 * x + w2 * x"')
    (tmp_path / "backprop-quadratic").mkdir()
    (tmp_path / "backprop-quadratic" / "assignment.yaml").write_text(text)
    spec = load_spec(tmp_path / "backprop-quadratic" / "assignment.yaml")
    script = ("import torch\np = torch.tensor([1.0], requires_grad=True)\nq = torch.tensor([1.0], requires_grad=True)\n"
              "def forward(x):\n    return p * x + q * x\n"
              "def loss(x, y):\n    return (forward(x) - y) ** 2\n"
              "for epoch in range(100):\n    for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]):\n"
              "        l = loss(x, y)\n        l.backward()\n"
              "        with torch.no_grad():\n            for t in (p, q):\n                t -= 0.01 * t.grad\n"
              "                t.grad.zero_()\n")
    result, _ = grade_source(spec, script, sandbox)
    undecided = [d for d in result.diagnoses if d.code == "names.undecided"]
    assert [d.params for d in undecided] == [{"ours": "w1", "candidates": "p, q"}, {"ours": "w2", "candidates": "p, q"}]
    assert "note.name_read_as" not in {d.code for d in result.diagnoses}
    assert "p, q could each be it" in undecided[0].render("en")
