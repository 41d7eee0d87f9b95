"""After a crash, only the truth: real scripts that stop early, graded end to end through the fork-server
sandbox, get the exception, its line, the calls that led there and what ran before it; no check judges a run
that never happened, and nothing is compared with a model the student never had."""
from __future__ import annotations

from pathlib import Path

from grader.spec import load_spec
from worker.grading import grade_source

ROOT = Path(__file__).resolve().parent.parent
LECTURE7 = (ROOT / "assignments" / "multiple-dimension-input" / "solution.py").read_text(encoding="utf-8")

LINEAR_HEAD = """\
import torch
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.Tensor([1.0])
w.requires_grad = True

def forward(x):
    return x * w

def loss(x, y):
    return (forward(x) - y) ** 2
"""
TRAINING = """
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
    print("progress:", epoch, l.item())
"""


def grade(sandbox, assignment: str, source: str):
    spec = load_spec(ROOT / "assignments" / assignment / "assignment.yaml")
    return grade_source(spec, source, sandbox)


def messages(result, lang: str = "en") -> dict[str, str]:
    return {c.id: c.message.render(lang) for c in result.checks}


def codes(result) -> dict[str, str]:
    return {c.id: c.message.code for c in result.checks}


def test_an_unused_sklearn_import_says_what_the_sandbox_has_and_nothing_else(sandbox):
    source = LECTURE7.replace("import torch\n", "import torch\nfrom sklearn.svm import SVR\n", 1)
    result, _ = grade(sandbox, "multiple-dimension-input", source)
    said = messages(result)
    assert said["runs"].startswith("Your script stops at line 3: it imports sklearn, which the grader does not have.")
    assert "numpy, torch, matplotlib" in said["runs"] and "sklearn is not — remove the import" in said["runs"]
    assert "sklearn" not in said["runs"].split("have.")[1].split(";")[0]  # not listed as available
    spec = load_spec(ROOT / "assignments" / "multiple-dimension-input" / "assignment.yaml")
    before = {"runs": "runs.missing_module", "gradients": "check.stopped_before_defined"}
    assert codes(result) == {c.id: before.get(c.id, "check.stopped_before_training") for c in spec.checks}
    assert said["gradients"] == "Not checked: your script stopped on line 3 before it defined criterion."
    # no cascade of missing parameters, no value from a model the student never had
    assert result.diagnoses == [] and result.score == 0
    assert not any("expected" in c.message.params for c in result.checks)
    zh = messages(result, "zh")
    assert "sklearn" in zh["runs"] and "请删除这个导入" in zh["runs"]
    assert zh["gradients"] == "未检查：你的脚本在第 3 行停止，还没有定义 criterion。"


def test_a_crash_mid_training_keeps_what_ran_and_judges_no_trained_model(sandbox):
    source = LINEAR_HEAD + TRAINING.replace("        l.backward()\n", "        l.backward()\n"
                                            "        if epoch == 50:\n            raise RuntimeError('diverged')\n")
    result, report = grade(sandbox, "backprop-linear", source)
    said = messages(result)
    line = source.splitlines().index("            raise RuntimeError('diverged')") + 1
    assert said["runs"] == f"Your script raised RuntimeError on line {line}: diverged"
    assert report.outcome.backward_calls == 151
    assert said["gradients"].startswith("All 8 gradient probes match")  # loss() was defined: judged
    passed = {c.id: c.points for c in result.checks}
    # the 151 steps that ran, all right: the crash costs `runs` and the trained model, never the backprop
    assert passed["trace"] == next(c.max_points for c in result.checks if c.id == "trace")
    assert codes(result)["params"] == codes(result)["prediction"] == "check.stopped_during_training"
    assert said["params"] == (f"Not checked: your script stopped on line {line} after 151 of the 300 backward() "
                              f"calls of the training, so there is no trained model to check.")
    assert [d.code for d in result.diagnoses] == ["note.stopped_after"]
    assert result.diagnoses[0].render("en") == ("Calls of backward() before your script stopped: 151. "
                                                "The last line it printed: progress: 49 " +
                                                report.stdout.splitlines()[-1].split()[-1])
    zh = messages(result, "zh")
    assert zh["params"] == (f"未检查：你的脚本在第 {line} 行停止，训练的 300 次 backward() 调用只完成了 151 次，"
                            f"因此没有训练好的模型可以检查。")
    assert result.diagnoses[0].render("zh").startswith("停止之前，你的脚本调用了 151 次 backward()")


def test_a_crash_inside_a_function_names_the_calls_that_led_there(sandbox):
    source = LINEAR_HEAD.replace("    return (forward(x) - y) ** 2\n",
                                 "    return (forward(x) - y) ** 2 + x_data.size()\n") + TRAINING
    result, _ = grade(sandbox, "backprop-linear", source)
    said = messages(result)
    assert said["runs"] == ("Your script raised AttributeError on line 11, in loss() (the calls that led there: "
                            "lines 15 → 11): 'list' object has no attribute 'size'")
    assert messages(result, "zh")["runs"] == ("你的脚本在第 11 行（loss() 中）抛出了 AttributeError（调用经过的行："
                                              "15 → 11）：'list' object has no attribute 'size'")
    assert codes(result)["trace"] == "check.stopped_before_training"
    tb = next(c for c in result.checks if c.id == "runs").details["traceback"]
    assert tb.splitlines()[-1] == "AttributeError: 'list' object has no attribute 'size'"


def test_a_crash_before_the_functions_exist_names_what_it_never_defined(sandbox):
    # loss is defined below the crash: never reached, not missing (a script without any loss is told it has none)
    source = ("import torch\nprint('loading')\nw = torch.Tensor([1.0])\nw.requires_grad = True\n[1.0].size()\n"
              "def forward(x):\n    return x * w\ndef loss(x, y):\n    return (forward(x) - y) ** 2\n")
    result, _ = grade(sandbox, "backprop-linear", source)
    assert codes(result) == {"runs": "runs.exception", "gradients": "check.stopped_before_defined",
                             "trace": "check.stopped_before_training", "params": "check.stopped_before_training",
                             "prediction": "check.stopped_before_training",
                             "training": "check.stopped_before_training"}
    assert messages(result)["gradients"] == "Not checked: your script stopped on line 5 before it defined loss."
    assert [d.render("en") for d in result.diagnoses] == [
        "Calls of backward() before your script stopped: 0. The last line it printed: loading"]


def test_a_crash_after_the_training_costs_only_the_runs_check(sandbox):
    result, _ = grade(sandbox, "backprop-linear", LINEAR_HEAD + TRAINING + "plt.show()\n")
    assert {c.id for c in result.checks if not c.passed} == {"runs"}
    assert messages(result)["runs"] == "Your script raised NameError on line 20: name 'plt' is not defined"
    assert result.score == 90


def test_sys_exit_with_a_status_before_training_names_no_line(sandbox):
    result, _ = grade(sandbox, "backprop-linear", LINEAR_HEAD + "import sys\nsys.exit(3)\n" + TRAINING)
    assert messages(result)["trace"] == "Not checked: your script stopped before its training began."
    assert messages(result, "zh")["trace"] == "未检查：你的脚本在训练开始之前就停止了。"


def test_a_model_that_never_trained_is_not_compared_with_a_zero_initialised_reference(sandbox):
    # init: student parameters: with no backward() call their starting values were never seen
    source = LECTURE7.split("for epoch in range(")[0]
    result, _ = grade(sandbox, "multiple-dimension-input", source)
    said = messages(result)
    assert codes(result)["params"] == "check.no_start"
    assert said["params"] == ("Not checked: no backward() call recorded the starting values of model.linear1.weight, "
                              "so there is no reference training from your own start to compare with.")
    assert messages(result, "zh")["params"].startswith("未检查：没有任何 backward() 调用记录下 model.linear1.weight")
    assert said["runs"] == "Your script ran to the end."


def test_a_notebook_that_stops_at_a_missing_module_names_the_cell_in_every_message(sandbox):
    from notebook_files import colab_notebook
    from worker.grading import grade_upload

    cells = ["import torch\nfrom sklearn.svm import SVR", LINEAR_HEAD, TRAINING]
    spec = load_spec(ROOT / "assignments" / "backprop-linear" / "assignment.yaml")
    text = colab_notebook(cells)
    result, _ = grade_upload(spec, text, sandbox, "hw.ipynb", notebook=text)
    said = messages(result)
    assert codes(result)["runs"] == "runs.missing_module_in_cell"
    assert said["runs"].startswith("Your notebook stops in cell 2, line 2: it imports sklearn")
    assert said["trace"] == "Not checked: your notebook stopped in cell 2, line 2, before its training began."
    assert messages(result, "zh")["gradients"] == "未检查：你的笔记本在第 2 个单元格第 2 行停止，还没有定义 loss。"
