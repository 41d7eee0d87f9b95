"""The student's own run judged step by step: backprop verified at the student's own parameters and batch, each
deviation from the spec's training named once with its numbers and costing only its facet, the same verdict on
every grading. Real scripts in the course's style through the fork-server sandbox with the real harness."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.spec import load_spec, parse_spec
from worker.grading import grade_source

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).parent / "scripts" / "own_run"
ASSIGNMENTS = ROOT / "assignments"
MODULE_SPEC = ASSIGNMENTS / "linear-regression-module" / "assignment.yaml"
TRAINING_LINE = "  - {id: training,   kind: training,     points: 10}\n"


def shipped(assignment: str):
    return load_spec(ASSIGNMENTS / assignment / "assignment.yaml")


def course_module_text() -> str:
    """The lecture 5 spec trained 100 epochs, as the scripts here do (the shipped one asks the course's 1000)."""
    return MODULE_SPEC.read_text().replace("training: {lr: 0.01, epochs: 1000, batch: full, optimizer: sgd}",
                                           "training: {lr: 0.01, epochs: 100, batch: full, optimizer: sgd}")


def module_spec(training: str | None = None, graded: str | None = None):
    """The lecture 5 spec with its training check grading `graded` (", facets: [...]"; "" for all), or, when graded
    is None, without one (its points back to the trace check), and other training fields."""
    text = course_module_text()
    assert TRAINING_LINE in text
    if graded is None:
        text = text.replace(TRAINING_LINE, "").replace("kind: trace,        points: 25", "kind: trace,        points: 35")
    else:
        text = text.replace(TRAINING_LINE, f"  - {{id: training,   kind: training,     points: 10{graded}}}\n")
    if training is not None:
        text = text.replace("training: {lr: 0.01, epochs: 100, batch: full, optimizer: sgd}", training)
    return parse_spec(text, base_dir=MODULE_SPEC.parent)


def grade(sandbox, spec, script: str | Path):
    source = script.read_text() if isinstance(script, Path) else (SCRIPTS / script).read_text()
    result, _ = grade_source(spec, source, sandbox)
    return result


def points(result) -> dict[str, float]:
    return {c.id: c.points for c in result.checks}


def lost(result) -> dict[str, float]:
    return {c.id: c.max_points - c.points for c in result.checks if c.points < c.max_points}


def said(result) -> list[str]:
    return [d.render("en") for d in result.diagnoses]


def test_a_wrong_learning_rate_costs_only_the_learning_rate_points(sandbox):
    result = grade(sandbox, shipped("backprop-linear"), "linear_lr_005.py")
    assert lost(result) == {"training": pytest.approx(2.5)}  # a quarter of 10: data, lr, batch, epochs
    assert said(result) == ["Your learning rate looks like 0.05; the assignment uses 0.01."]
    trace = next(c for c in result.checks if c.id == "trace")
    assert trace.message.code == "trace.ok" and trace.message.params == {"steps": 300}


def test_a_wrong_learning_rate_without_a_training_check_keeps_the_backprop_points(sandbox):
    result = grade(sandbox, module_spec(), "module_lr_005.py")
    assert set(lost(result)) == {"params", "prediction"}  # judged against the spec's run, as before
    assert said(result) == ["Your learning rate looks like 0.005; the assignment uses 0.01."]


def test_adam_is_named_with_its_learning_rate(sandbox):
    result = grade(sandbox, module_spec(graded=""), "module_adam.py")
    assert said(result) == ["You use Adam (lr 0.01); the assignment asks for SGD with lr 0.01."]
    # the optimizer is one of the six facets graded (the lr is the spec's); params are held against Adam's own run
    assert lost(result) == {"training": pytest.approx(1.67)}


def test_a_learning_rate_scheduler_is_named_with_where_it_starts_and_ends_and_is_replayed(sandbox):
    result = grade(sandbox, module_spec(graded=""), "module_steplr.py")
    assert said(result) == ["Your learning rate changes during training: 0.01 at the first step, about 0.00125 at the "
                            "end (a scheduler, or a decay of your own); the assignment keeps it at 0.01 throughout."]
    # the lr is one of the six facets graded; the final parameters are held against the schedule's own run
    assert lost(result) == {"training": pytest.approx(1.67)}


def test_a_constant_learning_rate_is_no_schedule(sandbox, tmp_path):
    path = tmp_path / "module_sgd.py"
    path.write_text((SCRIPTS / "module_steplr.py").read_text().replace("    scheduler.step()\n", ""))
    result = grade(sandbox, module_spec(graded=""), path)
    assert result.score == result.max_score and said(result) == []


def test_an_optimizer_left_free_is_no_deviation_and_is_replayed(sandbox):
    spec = module_spec(training="training: {lr: 0.01, epochs: 100, batch: full, optimizer: sgd, free: [optimizer, lr]}")
    result = grade(sandbox, spec, "module_adam.py")
    assert result.score == result.max_score and result.diagnoses == []


def with_optimizer(tmp_path: Path, name: str) -> Path:
    """module_adam.py with another torch.optim optimizer at its defaults (lr 0.01)."""
    path = tmp_path / f"module_{name.lower()}.py"
    path.write_text((SCRIPTS / "module_adam.py").read_text().replace("torch.optim.Adam(", f"torch.optim.{name}("))
    return path


@pytest.mark.parametrize("name", ["Adagrad", "RMSprop", "Adamax", "Rprop"])
def test_another_optimizer_is_named_once_and_costs_only_its_facet(sandbox, tmp_path, name):
    result = grade(sandbox, module_spec(graded=""), with_optimizer(tmp_path, name))
    assert said(result) == [f"You use {name} (lr 0.01); the assignment asks for SGD with lr 0.01."]
    # the backprop is right at every step, and final parameters are held against the reference's own run of it
    assert lost(result) == {"training": pytest.approx(1.67)}


def test_rmsprop_left_free_is_replayed_and_scores_full_marks(sandbox, tmp_path):
    spec = module_spec(training="training: {lr: 0.01, epochs: 100, batch: full, optimizer: sgd, free: [optimizer, lr]}")
    result = grade(sandbox, spec, with_optimizer(tmp_path, "RMSprop"))
    assert result.score == result.max_score and result.diagnoses == []


def test_lbfgs_calls_backward_several_times_per_step_and_is_named_once(sandbox):
    result = grade(sandbox, module_spec(), "module_lbfgs.py")
    # its 200 backward() calls are closure evaluations: its epochs are its 10 step() calls; no piled-up gradients
    assert said(result) == ["You use LBFGS (lr 0.01); the assignment asks for SGD with lr 0.01.",
                            "You train for 10 epochs; the assignment asks for 100."]
    checks = {c.id: c for c in result.checks}
    assert checks["runs"].passed and checks["gradients"].passed and checks["trace"].passed


def test_lbfgs_graded_by_a_training_check_costs_only_its_share(sandbox):
    result = grade(sandbox, module_spec(graded=""), "module_lbfgs.py")
    assert said(result)[0] == "You use LBFGS (lr 0.01); the assignment asks for SGD with lr 0.01."
    # its final parameters are held against LBFGS replayed from the same start for its 200 closure evaluations
    # (they were held against the assignment's SGD run, and failed, though the optimizer already costs its share)
    assert set(lost(result)) == {"training"}


@pytest.mark.parametrize("name, lr", [("NAdam", "0.01"), ("RAdam", "0.01"), ("Adadelta", "1")])
def test_an_optimizer_no_update_rule_fits_is_named_as_the_script_declared_it(sandbox, tmp_path, name, lr):
    """torch.optim optimizers the reference does not replay: named from the script's own optimizer object, and
    the final parameters held against where the student's verified run ended (within its last update)."""
    path = with_optimizer(tmp_path, name)
    path.write_text(path.read_text().replace("lr=0.01)", f"lr={lr})"))
    result = grade(sandbox, module_spec(graded=""), path)
    assert said(result) == [f"You use {name} (lr {lr}); the assignment asks for SGD with lr 0.01."]
    assert set(lost(result)) == {"training"}


def test_lbfgs_with_a_line_search_is_named_and_counted_by_its_steps(sandbox, tmp_path):
    path = tmp_path / "module_lbfgs_wolfe.py"
    path.write_text((SCRIPTS / "module_lbfgs.py").read_text().replace(
        "LBFGS(model.parameters(), lr=0.01)", "LBFGS(model.parameters(), lr=0.1, line_search_fn='strong_wolfe')"))
    result = grade(sandbox, module_spec(graded=""), path)
    # no update rule of ours fits a line search: the declared LBFGS is named, its epochs are its step() calls, and
    # its end (converged to w = 2, b = 0) is held against its own verified run's, not SGD's
    assert said(result) == ["You use LBFGS (lr 0.1); the assignment asks for SGD with lr 0.01.",
                            "You train for 10 epochs; the assignment asks for 100."]
    assert set(lost(result)) == {"training"}


def test_a_leftover_after_an_unreplayable_optimizer_still_fails_the_final_parameters(sandbox, tmp_path):
    path = with_optimizer(tmp_path, "NAdam")
    path.write_text(path.read_text() + "\nmodel.linear.weight.data.fill_(0.5)\n")
    result = grade(sandbox, module_spec(graded=""), path)
    assert "params" in lost(result)  # held against where the recorded run ended, not waved through


def test_momentum_is_named_with_its_value(sandbox):
    result = grade(sandbox, module_spec(graded=", facets: [momentum, epochs]"), "module_momentum.py")
    assert said(result) == ["You use SGD with momentum 0.9; the assignment asks for plain SGD with lr 0.01."]
    assert lost(result) == {"training": 5.0}


def test_epochs_come_from_the_exact_number_of_backward_calls(sandbox):
    result = grade(sandbox, shipped("backprop-linear"), "ten_thousand_epochs.py")
    assert said(result) == ["You train for 10000 epochs; the assignment asks for 100."]
    assert lost(result) == {"training": pytest.approx(2.5)}


def test_a_thousand_epochs_on_the_module_homework(sandbox):
    result = grade(sandbox, module_spec(graded=", facets: [epochs]"), "module_1000_epochs.py")
    assert said(result) == ["You train for 1000 epochs; the assignment asks for 100."]
    assert lost(result) == {"training": 10.0}  # params: held against the reference trained 1000 epochs


def test_several_runs_in_one_script_are_several_runs_not_more_epochs(sandbox):
    result = grade(sandbox, module_spec(training="training: {lr: 0.01, epochs: 500, batch: full, optimizer: sgd, "
                                                 "free: [optimizer, lr]}"), "seven_optimisers.py")
    assert said(result) == ["Your script trains in 7 runs, from fresh parameters each time; its last run is the one "
                            "graded."]
    assert result.score == result.max_score
    trace = next(c for c in result.checks if c.id == "trace")  # 3500 steps in all is no count the student knows
    assert trace.message.code == "trace.ok_runs" and trace.message.params == {"runs": 7}


def test_the_students_own_data_is_named_with_its_sample_counts(sandbox):
    result = grade(sandbox, shipped("backprop-linear"), "linear_own_data.py")
    assert said(result) == ["Your data has 4 samples (3 of them the assignment's); the assignment's has 3. "
                            "Train on the assignment's data."]
    assert lost(result) == {"training": pytest.approx(3.33)}


def test_shuffled_minibatches_are_verified_on_the_samples_each_step_used(sandbox):
    spec = module_spec(training="training: {lr: 0.01, epochs: 50, batch: 2, optimizer: sgd}")
    spec = parse_spec(course_module_text().replace(
        "data: {x: [[1.0], [2.0], [3.0]], y: [[2.0], [4.0], [6.0]]}",
        "data: {x: [[1.0], [2.0], [3.0], [4.0]], y: [[2.0], [4.0], [6.0], [8.0]]}").replace(
        "training: {lr: 0.01, epochs: 100, batch: full, optimizer: sgd}",
        "training: {lr: 0.01, epochs: 50, batch: 2, optimizer: sgd}").replace(
        "mse(y_pred, y, reduction='sum')", "mse(y_pred, y)"), base_dir=MODULE_SPEC.parent)
    result = grade(sandbox, spec, "shuffled_minibatches.py")
    trace = next(c for c in result.checks if c.id == "trace")
    assert trace.passed and trace.message.params == {"steps": 100}
    # the reference replays the student's own sample order, so the shuffle costs nothing
    assert result.score == result.max_score and result.diagnoses == []


def test_training_inside_a_function_with_no_grad_updates_scores_full_marks(sandbox):
    result = grade(sandbox, shipped("backprop-quadratic"), "quadratic_in_a_function.py")
    assert result.score == result.max_score and result.diagnoses == []


def test_a_wrong_gradient_is_named_at_the_students_own_parameters(sandbox):
    source = (ASSIGNMENTS / "backprop-quadratic" / "solution.py").read_text().replace(
        "w1.data = w1.data - 0.01 * w1.grad.data", "w1.data = w1.data - 0.01 * (w1.grad.data + 0.5)")
    path = Path("/tmp") / "grader_test_shifted_update.py"
    path.write_text(source)
    result = grade(sandbox, shipped("backprop-quadratic"), path)
    # the gradients are right at every step, at whatever values the odd update leads to
    assert next(c for c in result.checks if c.id == "trace").passed


def test_the_same_script_gets_the_same_verdict_every_time(sandbox):
    # lecture 7's homework without a spec seed: every grading draws the script's initial weights afresh
    folder = ASSIGNMENTS / "multiple-dimension-input"
    text = (folder / "assignment.yaml").read_text()
    assert "seed: 0\n" in text
    spec = parse_spec(text.replace("seed: 0\n", ""), base_dir=folder)
    source = (folder / "mistakes" / "learning_rate.py").read_text()
    first, _ = grade_source(spec, source, sandbox)
    again = [grade_source(spec, source, sandbox)[0] for _ in range(2)]
    from worker.sandbox import get_sandbox

    other = get_sandbox("forkserver")  # another session: a fresh fork server
    try:
        again.append(grade_source(spec, source, other)[0])
    finally:
        other.close()
    verdicts = {(r.score, tuple((c.id, c.points) for c in r.checks), tuple(d.code for d in r.diagnoses)) for r in [first, *again]}
    assert len(verdicts) == 1


def test_an_own_data_set_many_times_the_assignments_is_named_with_its_size(sandbox, tmp_path):
    # 13 points in a list (more than four times the assignment's 3): lr 0.001 keeps the run from diverging
    path = tmp_path / "linear_13_points.py"
    path.write_text((SCRIPTS / "linear_own_data.py").read_text()
                    .replace("x_data = [1.0, 2.0, 3.0, 4.0]", "x_data = [float(i) for i in range(1, 14)]")
                    .replace("y_data = [2.0, 4.0, 6.0, 8.0]", "y_data = [2.0 * x for x in x_data]")
                    .replace("0.01 * w.grad.data", "0.001 * w.grad.data"))
    result = grade(sandbox, shipped("backprop-linear"), path)
    assert said(result) == ["Your data has 13 samples (3 of them the assignment's); the assignment's has 3. "
                            "Train on the assignment's data.",
                            "Your learning rate looks like 0.001; the assignment uses 0.01."]
    # the steps on the assignment's own samples are verified; the student's other samples are not known
    assert next(c for c in result.checks if c.id == "trace").passed


def test_full_batch_steps_on_the_students_own_data_are_verified_on_that_data(sandbox, tmp_path):
    path = tmp_path / "module_own_data.py"
    path.write_text((SCRIPTS / "module_adam.py").read_text()
                    .replace("torch.optim.Adam(", "torch.optim.SGD(")
                    .replace("x_data = torch.tensor([[1.0], [2.0], [3.0]])", "x_data = torch.tensor([[1.0], [2.0], [3.0], [5.0]])")
                    .replace("y_data = torch.tensor([[2.0], [4.0], [6.0]])", "y_data = torch.tensor([[2.0], [4.0], [6.0], [9.0]])"))
    result = grade(sandbox, module_spec(), path)
    assert said(result) == ["Your data has 4 samples (3 of them the assignment's); the assignment's has 3. "
                            "Train on the assignment's data."]
    # every step's gradient is the reference's on the student's own 4 samples, as the harness recorded them
    trace = next(c for c in result.checks if c.id == "trace")
    assert trace.passed and trace.message.params == {"steps": 100}


def test_lbfgs_epochs_are_its_step_calls_over_the_batches_of_an_epoch_and_never_more_than_its_evaluations():
    from grader.facets import _epochs_of_steps
    from grader.protocol import RunProtocol

    per_sample = RunProtocol(run=0, calls=5400, first_call=0, samples_per_step=1, optimizer_steps=900)
    assert _epochs_of_steps(per_sample, 3) == 300
    whole = RunProtocol(run=0, calls=1000, first_call=0, samples_per_step=3, optimizer_steps=50)
    assert _epochs_of_steps(whole, 3) == 50
    forged = RunProtocol(run=0, calls=100, first_call=0, samples_per_step=3, optimizer_steps=1000)
    assert _epochs_of_steps(forged, 3) is None
    negative = RunProtocol(run=0, calls=100, first_call=0, samples_per_step=3, optimizer_steps=-5)
    assert _epochs_of_steps(negative, 3) is None


def test_a_held_out_accuracy_after_own_labels_is_held_to_the_training_on_them_but_too_few_epochs_still_fail(sandbox):
    """Issue 14: the held-out samples keep the assignment's labels. A model trained on labels of the student's own
    (x = 2 passes) misses them as often as the assignment's training on those labels: the data facet costs, the
    accuracy check does not. A model trained 100 epochs on the assignment's data is under-trained: that is what
    the accuracy check catches, and it still fails."""
    spec = shipped("logistic-regression")
    own = grade(sandbox, spec, ROOT / "tests" / "corpus" / "lecture6" / "own_labels_full_batch.py")
    held_out = next(c for c in own.checks if c.id == "held-out")
    assert held_out.message.code == "accuracy.on_own_data" and held_out.points == held_out.max_points
    assert set(lost(own)) == {"training"}
    few = grade(sandbox, spec, ASSIGNMENTS / "logistic-regression" / "mistakes" / "too_few_epochs.py")
    held_out = next(c for c in few.checks if c.id == "held-out")
    assert held_out.message.code == "accuracy.low" and held_out.points == 0
