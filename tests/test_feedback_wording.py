"""Feedback says what happened, in English and in Chinese: a full-batch step names all samples (never
"sample None"), an accuracy is a count and a percentage, a loss function's value is not "loss of loss", a probe
reports its most useful attempt, and a wrong gradient points at the assignment's own functions. Real scripts,
graded end to end through the fork-server sandbox."""
from __future__ import annotations

import re
from pathlib import Path

from grader.messages import Message
from grader.spec import load_spec
from worker.grading import grade_source

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ROOT / "assignments"


def solution(assignment: str) -> str:
    return (ASSIGNMENTS / assignment / "solution.py").read_text(encoding="utf-8")


def replaced(source: str, old: str, new: str) -> str:
    assert old in source, old
    return source.replace(old, new, 1)


def grade(sandbox, assignment: str, source: str):
    spec = load_spec(ASSIGNMENTS / assignment / "assignment.yaml")
    return grade_source(spec, source, sandbox)[0]


def check(result, check_id: str):
    return next(c for c in result.checks if c.id == check_id)


def rendered(result, lang: str) -> list[str]:
    return [c.message.render(lang) for c in result.checks] + [d.render(lang) for d in result.diagnoses]


def test_a_full_batch_trace_names_all_samples_and_the_hint_names_model_and_criterion(sandbox):
    # lecture 5: full batch; a loss twice the assignment's gives every gradient twice its value
    source, n = re.subn(r"criterion = torch\.nn\.MSELoss\(.*\)",
                        "criterion = lambda y_pred, y: 2 * torch.nn.functional.mse_loss(y_pred, y, reduction='sum')",
                        solution("linear-regression-module"), count=1)
    assert n == 1
    result = grade(sandbox, "linear-regression-module", source)
    trace = check(result, "trace")
    # each step is verified at the student's own values (issue 14): the first wrong step, with its samples
    assert trace.message.code == "trace.wrong_step"
    assert "The first wrong one is step 1" in trace.message.render("en")
    for lang in ("en", "zh"):
        assert not any("None" in text for text in rendered(result, lang))
    hint = next(d for d in result.diagnoses if d.code == "mistake.wrong_gradient")
    assert hint.render("en").endswith("check model(x) and criterion(model(x), y) against the assignment.")
    assert "model(x)" in hint.render("zh") and "criterion(model(x), y)" in hint.render("zh")
    assert "forward(x)" not in hint.render("en") + hint.render("zh")


def test_the_seed_homework_s_hint_still_names_forward_and_loss():
    text = Message("mistake.wrong_gradient", {"param": "w"}).render("en")  # a row stored before the names
    assert text.endswith("check forward(x) and loss(x, y) against the assignment.")


def test_a_perfect_accuracy_is_all_samples_and_one_hundred_percent(sandbox):
    result = grade(sandbox, "logistic-regression", solution("logistic-regression"))
    accuracy = check(result, "held-out")
    n = accuracy.message.params["samples"]
    assert accuracy.passed and accuracy.message.params["right"] == n
    assert accuracy.message.render("en") == (f"Your model classifies {n} of the {n} samples right "
                                             f"(100%; at least 75% needed).")
    assert accuracy.message.render("zh") == f"你的模型对 {n} 个样本中的 {n} 个分类正确（100%；至少需要 75%）。"


def test_a_low_accuracy_is_a_count_and_a_percentage():
    params = {"right": 2, "samples": 6, "percent": 33.3, "needed": 75}
    assert Message("accuracy.low", params).render("en") == (
        "Your model classifies only 2 of the 6 samples right (33.3%); the assignment needs 75%.")
    assert Message("accuracy.low", params).render("zh") == "你的模型在 6 个样本中只分类正确 2 个（33.3%）；作业要求 75%。"


def test_a_wrong_cost_function_is_not_called_loss_of_loss(sandbox):
    # cost's mean over one sample too many (the sum alone is said as a sum: function.summed)
    source, n = re.subn(r"return (\w+) / len\(xs\)", r"return \1 / (len(xs) + 1)", solution("gradient-descent"),
                        count=1)
    assert n == 1
    result = grade(sandbox, "gradient-descent", source)
    cost = check(result, "cost")
    assert cost.message.code == "function.mismatch_value"
    for lang in ("en", "zh"):
        text = cost.message.render(lang)
        assert "cost(" in text and "loss of loss" not in text and "loss 的 loss" not in text
    assert " should return " in cost.message.render("en") and "应返回" in cost.message.render("zh")
    gradient = check(result, "gradient")  # a gradient still says which one
    assert gradient.passed


def test_a_probe_reports_its_most_useful_attempt(sandbox):
    # criterion(x, y) fails on lists and on the 8-column x; criterion(model(x), y) runs and returns one loss
    # per sample: that is what the student must hear, not the AttributeError of the first attempt
    source = replaced(solution("multiple-dimension-input"), "criterion = torch.nn.BCELoss()\n", (
        "def criterion(y_pred, y):\n"
        "    assert y_pred.size() == y.size(), 'sizes differ'\n"
        "    return torch.nn.functional.binary_cross_entropy(y_pred, y, reduction='none')\n"))
    source = replaced(source, "loss = criterion(y_pred, y_data)", "loss = criterion(y_pred, y_data).mean()")
    result = grade(sandbox, "multiple-dimension-input", source)
    gradients = check(result, "gradients")
    text = gradients.message.render("en")
    assert "loss returned a tensor of shape [" in text and ", 1]; backward() needs a scalar" in text
    assert "'list' object has no attribute 'size'" not in text
    assert check(result, "runs").passed


def test_a_probe_s_arguments_are_written_as_the_call_writes_them(sandbox):
    """gradient(xs, ys) at a test point: its two lists inside the call's parentheses, not one list of lists."""
    source = (ASSIGNMENTS / "gradient-descent" / "mistakes" / "wrong_gradient.py").read_text(encoding="utf-8")
    message = check(grade(sandbox, "gradient-descent", source), "gradient").message
    assert "gradient([1, 2, 3], [2, 4, 6]) should return" in message.render("en")
    assert "gradient([1, 2, 3], [2, 4, 6])" in message.render("zh")
    assert "[[" not in message.render("en") + message.render("zh")
