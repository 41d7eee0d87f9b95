"""Real students' ways of writing a correct answer, graded end to end through the fork-server sandbox.

`tests/scripts/student_styles/<assignment>/` holds correct scripts (Chinese names and prints, tabs, CRLF, a
BOM, GBK bytes, notebook exports, 0-dim and float64 tensors, no_grad updates, optimisers, plots, input()):
each must get full marks. `not_full_marks/` holds scripts that are graded down, each for a reason the
student must be told in words they can act on."""
from __future__ import annotations

from pathlib import Path

import pytest

from worker.grading import grade_source
from grader.source_text import decode_script
from grader.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
STYLES = Path(__file__).parent / "scripts" / "student_styles"
CORRECT = sorted(p for p in STYLES.glob("*/*.py") if p.parent.name != "not_full_marks")
ODD = STYLES / "not_full_marks"


def grade(sandbox, assignment: str, path: Path):
    spec = load_spec(ROOT / "assignments" / assignment / "assignment.yaml")
    source, _ = decode_script(path.read_bytes())  # as the CLI and uploads read it: BOM, CRLF and GBK included
    result, _ = grade_source(spec, source, sandbox)
    return result


def failed(result) -> dict[str, str]:
    return {c.id: c.message.render("en") for c in result.checks if not c.passed}


def diagnoses(result) -> set[str]:
    return {d.code for d in result.diagnoses}


def test_there_are_many_styles():
    assert len(CORRECT) >= 30


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_correct_style_scores_full_marks(sandbox, path):
    result = grade(sandbox, path.parent.name, path)
    assert failed(result) == {}
    assert result.score == result.max_score
    assert result.diagnoses == []


def test_matplotlib_use_of_a_gui_backend_keeps_plotting_headless(sandbox):
    result = grade(sandbox, "backprop-quadratic", STYLES / "backprop-quadratic" / "matplotlib_use_tkagg.py")
    assert "runs" not in failed(result)


def test_loss_written_for_tensor_targets_is_probed_with_tensors(sandbox):
    # F.mse_loss(forward(x), y) fails on a float y; the script's own data were tensors.
    result = grade(sandbox, "backprop-quadratic", STYLES / "backprop-quadratic" / "mse_loss_tensor_rows.py")
    assert "gradients" not in failed(result)


def test_input_after_training_costs_only_the_runs_check_and_says_why(sandbox):
    result = grade(sandbox, "backprop-linear", ODD / "linear_input_call.py")
    assert set(failed(result)) == {"runs"}
    assert "input()" in failed(result)["runs"] and "Remove the input() calls" in failed(result)["runs"]
    assert result.stdout.startswith("请输入x：")  # the prompt is still printed, as Python would


def test_input_before_the_parameters_are_defined_says_why(sandbox):
    result = grade(sandbox, "backprop-quadratic", ODD / "quadratic_input_start.py")
    assert "EOFError on line 4: input() got no answer" in failed(result)["runs"]


@pytest.mark.parametrize("name", ["linear_autograd_grad.py", "quadratic_autograd_grad.py"])
def test_autograd_grad_instead_of_backward_is_told_to_call_backward(sandbox, name):
    assignment = "backprop-linear" if name.startswith("linear") else "backprop-quadratic"
    result = grade(sandbox, assignment, ODD / name)
    # the loss and the training are right; only backward() is missing, and without it no step shows the training
    assert set(failed(result)) == {"trace", "training"}
    assert diagnoses(result) == {"mistake.no_backward"}


def test_exception_after_training_costs_only_the_runs_check(sandbox):
    result = grade(sandbox, "backprop-linear", ODD / "linear_exc_end.py")
    assert failed(result) == {"runs": "Your script raised NameError on line 16: name 'undefined_name' is not defined"}


def test_one_backward_too_many_after_training_is_counted(sandbox):
    result = grade(sandbox, "backprop-quadratic", ODD / "quadratic_exc_after.py")
    # the 301st backward() raised (the graph was freed): the 300 steps of the training are right
    assert set(failed(result)) == {"runs"}
    assert "RuntimeError" in failed(result)["runs"]


def test_wrong_learning_rate_is_named(sandbox):
    result = grade(sandbox, "backprop-linear", ODD / "linear_wrong_lr.py")
    assert "mistake.learning_rate" in diagnoses(result)


def test_module_without_the_asked_criterion_is_probed_with_the_specs_loss_and_told_its_name(sandbox):
    # F.mse_loss(..., reduction="sum") in the loop is the assignment's loss: the right work loses nothing for a name
    result = grade(sandbox, "linear-regression-module", ODD / "module_no_criterion.py")
    assert failed(result) == {}
    assert [d.render("en") for d in result.diagnoses] == [
        "Your script leaves no loss object criterion among its globals (one made inside a function or an object is "
        "out of reach): your model's gradients were probed with the assignment's loss, "
        "torch.nn.MSELoss(reduction='sum'); the loss your training computes is checked step by step."]
