"""End to end through the real fork-server sandbox and the real harness: correct styles, mistakes, odd scripts."""
from __future__ import annotations

from pathlib import Path

import pytest

from worker.grading import grade_source
from grader.selfcheck import expected_code
from grader.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ROOT / "assignments"
CORRECT_STYLES = sorted((Path(__file__).parent / "scripts" / "quadratic_correct").glob("*.py"))
MISTAKES = sorted(ASSIGNMENTS.glob("*/mistakes/*.py"))


@pytest.fixture(scope="module")
def quadratic():
    return load_spec(ASSIGNMENTS / "backprop-quadratic" / "assignment.yaml")


@pytest.fixture(scope="module")
def linear():
    return load_spec(ASSIGNMENTS / "backprop-linear" / "assignment.yaml")


def codes(result) -> set[str]:
    return {d.code for d in result.diagnoses} | {c.message.code for c in result.checks}


@pytest.mark.parametrize("name", ["backprop-linear", "backprop-quadratic"])
def test_seed_homework_scores_full_marks(sandbox, name):
    spec = load_spec(ASSIGNMENTS / name / "assignment.yaml")
    source = (ASSIGNMENTS / name / "solution.py").read_text()
    result, report = grade_source(spec, source, sandbox)
    assert result.score == result.max_score == 100
    assert all(c.passed for c in result.checks)
    assert result.diagnoses == []
    assert "after training" in result.stdout.lower()
    assert report.outcome.backward_calls == 300


def test_seed_quadratic_prediction_is_what_torch_prints(sandbox, quadratic):
    _, report = grade_source(quadratic, (ASSIGNMENTS / "backprop-quadratic" / "solution.py").read_text(), sandbox)
    assert report.outcome.predictions[0].value.array()[0] == pytest.approx(8.544171333312988, abs=1e-12)


@pytest.mark.parametrize("path", CORRECT_STYLES, ids=lambda p: p.stem)
def test_correct_style_scores_full_marks(sandbox, quadratic, path):
    result, _ = grade_source(quadratic, path.read_text(), sandbox)
    failing = [(c.id, c.message.render()) for c in result.checks if not c.passed]
    assert failing == []
    assert result.score == 100
    assert [d.code for d in result.diagnoses if not d.code.startswith("note.")] == []


def test_notebook_magics_are_ignored_and_the_student_is_told(sandbox, quadratic):
    path = Path(__file__).parent / "scripts" / "quadratic_correct" / "notebook_cells_pasted.py"
    result, _ = grade_source(quadratic, path.read_text(), sandbox)
    assert result.score == 100
    note = next(d for d in result.diagnoses if d.code == "note.notebook_magics_ignored")
    assert note.params == {"lines": [1, 2]}
    assert "line [1, 2]" in note.render() or "1, 2" in note.render()


def test_a_pasted_time_magic_runs_its_statement_and_help_lines_are_ignored(sandbox, quadratic):
    path = Path(__file__).parent / "scripts" / "quadratic_correct" / "notebook_cells_pasted.py"
    source = path.read_text().replace("print(forward(4).item())", "torch.Tensor.backward?\n"
                                      "%time prediction = forward(4).item()\nprint(prediction)")
    assert "%time" in source
    result, _ = grade_source(quadratic, source, sandbox)
    assert result.score == 100, [c.message.render() for c in result.checks if not c.passed]
    note = next(d for d in result.diagnoses if d.code == "note.notebook_magics_ignored")
    help_line = source.splitlines().index("torch.Tensor.backward?") + 1
    assert note.params == {"lines": [1, 2, help_line]}  # the %time line ran: it is not among them


def test_a_real_syntax_error_beside_a_magic_is_the_one_reported(sandbox, linear):
    result, _ = grade_source(linear, "%matplotlib inline\nimport torch\nw = (1,\n", sandbox)
    assert result.checks[0].message.code == "runs.syntax_error"
    assert result.checks[0].message.params["line"] == 3  # the unclosed "(", not the magic on line 1


def test_there_are_at_least_eight_correct_styles():
    assert len(CORRECT_STYLES) >= 8


@pytest.mark.parametrize("path", MISTAKES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_mistake_scores_less_with_its_diagnosis(sandbox, path):
    spec = load_spec(path.parent.parent / "assignment.yaml")
    source = path.read_text()
    expected = expected_code(source)
    result, _ = grade_source(spec, source, sandbox)
    assert result.score < result.max_score
    assert expected in codes(result), [d.render() for d in result.diagnoses]


def test_mistakes_cover_at_least_eight_distinct_diagnoses():
    diagnoses = {expected_code(p.read_text()) for p in MISTAKES}
    assert len({c for c in diagnoses if c.startswith("mistake.")}) >= 8


def test_no_zero_grad_feedback_names_the_first_divergent_step(sandbox, quadratic):
    source = (ASSIGNMENTS / "backprop-quadratic" / "mistakes" / "no_zero_grad.py").read_text()
    result, _ = grade_source(quadratic, source, sandbox)
    trace = next(c for c in result.checks if c.kind == "trace")
    assert trace.message.code == "trace.wrong_step"
    assert trace.message.params["step"] == 2 and trace.message.params["samples"] == "2"
    assert trace.message.params["param"] == "w1"
    assert trace.message.params["expected"] == pytest.approx(22.88)
    assert trace.message.params["got"] == pytest.approx(24.88, rel=1e-6)
    assert "never zeroed" in result.diagnoses[0].render()
    line = source.splitlines().index("        l.backward()") + 1
    assert trace.details["first"]["line"] == line  # the first-difference table's line: where backward() was called


def test_wrong_learning_rate_is_named(sandbox, linear):
    source = (ASSIGNMENTS / "backprop-linear" / "mistakes" / "learning_rate.py").read_text()
    result, _ = grade_source(linear, source, sandbox)
    lr = next(d for d in result.diagnoses if d.code == "mistake.learning_rate")
    assert lr.params == {"lr": 0.05, "expected": 0.01}


def test_a_learning_rate_estimated_from_one_student_is_not_kept(sandbox, linear):
    """The spec's reference lives as long as the worker; runs made from each student's own learning rate
    must not pile up in it."""
    from grader.expected import expected_for

    ref = expected_for(linear)
    kept = set(ref.variants)
    source = (ASSIGNMENTS / "backprop-linear" / "mistakes" / "learning_rate.py").read_text()
    for lr in ("0.013", "0.027", "0.0042"):
        result, _ = grade_source(linear, source.replace("0.05", lr), sandbox)
        assert {d.code: d.params for d in result.diagnoses}["mistake.learning_rate"]["lr"] == pytest.approx(float(lr))
    estimated = {v.lr for v in ref.variants if v.lr is not None} - {v.lr for v in kept if v.lr is not None}
    assert not {0.013, 0.027, 0.0042} & {round(lr, 6) for lr in estimated}


def test_syntax_error_reports_its_line(sandbox, linear):
    result, _ = grade_source(linear, "import torch\nw = torch.tensor([1.0]\nprint(w)\n", sandbox)
    runs = result.checks[0]
    assert runs.message.code == "runs.syntax_error"
    assert runs.message.params["line"] in (2, 3)
    assert result.score == 0
    assert all(c.message.code == "check.not_run" for c in result.checks[1:])


def test_script_without_the_names_says_so(sandbox, linear):
    result, report = grade_source(linear, "import torch\nprint('hello')\n", sandbox)
    assert report.outcome.status == "ok"
    assert report.outcome.final_params["w"].kind == "missing"
    assert [d.code for d in result.diagnoses] == ["mistake.missing_param"]
    assert result.checks[0].passed and result.score == 10


def test_script_that_raises_keeps_its_partial_trace(sandbox, linear):
    source = (ASSIGNMENTS / "backprop-linear" / "solution.py").read_text()
    source = source.replace("print('progress:', epoch, l.item())", "assert epoch < 10, 'stop'")
    result, report = grade_source(linear, source, sandbox)
    assert report.outcome.status == "exception"
    assert report.outcome.error.type == "AssertionError"
    assert result.checks[0].message.params["line"] == 19
    assert report.outcome.backward_calls == 33
    trace = next(c for c in result.checks if c.kind == "trace")
    # judged on the 33 steps that ran: the stop costs `runs` and the trained model's checks, not the backprop
    assert trace.message.code == "trace.ok" and trace.points == trace.max_points


def test_os_exit_still_reports(sandbox, linear):
    source = (ASSIGNMENTS / "backprop-linear" / "solution.py").read_text()
    source = source.replace("print('progress:', epoch, l.item())", "import os\n    if epoch == 4: os._exit(3)")
    result, report = grade_source(linear, source, sandbox)
    assert report.outcome.status == "os_exit" and report.outcome.exit_code == 3
    assert report.outcome.backward_calls == 15
    assert result.checks[0].message.code == "runs.os_exit"


def test_sys_exit_zero_counts_as_a_normal_end(sandbox, linear):
    source = (ASSIGNMENTS / "backprop-linear" / "solution.py").read_text() + "\nimport sys\nsys.exit(0)\n"
    result, _ = grade_source(linear, source, sandbox)
    assert result.score == 100


def test_never_calling_backward_is_diagnosed(sandbox, linear):
    source = "import torch\nw = torch.tensor([1.0], requires_grad=True)\ndef forward(x):\n    return w * x\n" \
             "def loss(x, y):\n    return (forward(x) - y) ** 2\n"
    result, report = grade_source(linear, source, sandbox)
    assert report.outcome.backward_calls == 0
    assert [d.code for d in result.diagnoses] == ["mistake.no_backward"]
    gradients = next(c for c in result.checks if c.kind == "gradients")
    assert gradients.passed  # the backprop itself is right; only the training is missing


def test_training_inside_a_function_is_recorded(sandbox, linear):
    source = """import torch
def forward(x, w):
    return w * x
def main():
    w = torch.tensor([1.0], requires_grad=True)
    for epoch in range(100):
        for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]):
            l = (forward(x, w) - y) ** 2
            l.backward()
            w.data -= 0.01 * w.grad.data
            w.grad.zero_()
main()
"""
    result, _ = grade_source(linear, source, sandbox)
    trace = next(c for c in result.checks if c.kind == "trace")
    assert trace.passed, trace.message.render()
    assert [d.code for d in result.diagnoses] == ["mistake.missing_param"]


def test_plt_show_and_input_do_not_hang(sandbox, linear):
    source = (ASSIGNMENTS / "backprop-linear" / "solution.py").read_text()
    source = "import matplotlib.pyplot as plt\n" + source + "\nplt.plot([1, 2]); plt.show()\ntry:\n    input()\nexcept EOFError:\n    pass\n"
    result, report = grade_source(linear, source, sandbox)
    assert result.score == 100
    assert report.wall_seconds < 10


def test_chinese_output_round_trips(sandbox, linear):
    source = (ASSIGNMENTS / "backprop-linear" / "solution.py").read_text() + "\nprint('训练完成')\n"
    result, _ = grade_source(linear, source, sandbox)
    assert "训练完成" in result.stdout
