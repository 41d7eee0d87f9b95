"""The reference trainer: the homework's numbers, the trace it records, and each known mistake."""

import dataclasses

import numpy as np
import pytest

from grader.reference import (
    ExpressionError,
    Problem,
    ReferenceRun,
    Schedule,
    Step,
    Variant,
    gradients_at,
    mistake_variants,
    predict,
    train,
)

X, Y = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
LINEAR = Problem(forward="w * x", loss="(y_pred - y)**2", params={"w": 1.0}, x=X, y=Y)
QUADRATIC = Problem(forward="w1 * x**2 + w2 * x + b", loss="(y_pred - y)**2",
                    params={"w1": 1.0, "w2": 1.0, "b": 1.0}, x=X, y=Y)
HOMEWORK = Schedule(lr=0.01, epochs=100)
SHORT = Schedule(lr=0.01, epochs=3)


def grad(step: Step, name: str) -> float:
    return float(step.grads[name])


# --- the homework ---

def test_linear_homework_first_gradients():
    run = train(LINEAR, HOMEWORK)
    assert [grad(step, "w") for step in run.steps[:3]] == pytest.approx([-2.0, -7.84, -16.2288], rel=1e-12)


def test_linear_homework_prediction_after_training():
    run = train(LINEAR, HOMEWORK)
    assert float(predict(LINEAR, run.final_params, 4.0)) == pytest.approx(7.9999999999997, abs=1e-12)


def test_quadratic_homework_prediction_after_training():
    run = train(QUADRATIC, HOMEWORK)
    prediction = float(predict(QUADRATIC, run.final_params, 4.0))
    assert prediction == pytest.approx(8.5441701, abs=1e-7)
    assert prediction == pytest.approx(8.544171333312988, rel=1e-6)  # what torch float32 prints


def test_quadratic_homework_first_step_gradients():
    step = train(QUADRATIC, SHORT).steps[0]  # x=1, y=2: y_pred=3, dl/dy_pred = 2
    assert {name: float(g) for name, g in step.grads.items()} == {"w1": 2.0, "w2": 2.0, "b": 2.0}


# --- the recorded trace ---

def test_trace_records_every_backward_in_order():
    run = train(QUADRATIC, SHORT)
    assert isinstance(run, ReferenceRun)
    assert [(s.index, s.epoch, s.sample) for s in run.steps] == [
        (e * 3 + i, e, i) for e in range(3) for i in range(3)]
    assert list(run.steps[0].params) == ["w1", "w2", "b"]  # the spec's order
    assert list(run.steps[0].grads) == ["w1", "w2", "b"]
    assert list(run.final_params) == ["w1", "w2", "b"]


def test_each_step_runs_at_the_params_the_previous_update_left():
    run = train(QUADRATIC, SHORT)
    for before, after in zip(run.steps, run.steps[1:]):
        for name in before.params:
            np.testing.assert_array_equal(after.params[name], before.params[name] - 0.01 * before.grads[name])
    last = run.steps[-1]
    for name in last.params:
        np.testing.assert_array_equal(run.final_params[name], last.params[name] - 0.01 * last.grads[name])


def test_each_step_gradient_is_a_fresh_backward_at_its_params():
    run = train(QUADRATIC, SHORT)
    for step in run.steps:
        expected = gradients_at(QUADRATIC, step.params, X[step.sample], Y[step.sample])
        for name in expected:
            np.testing.assert_array_equal(step.grads[name], expected[name])


def test_losses_are_recorded_per_step_and_averaged_per_epoch():
    run = train(LINEAR, SHORT)
    assert run.steps[0].loss == 1.0  # (1*1 - 2)**2
    assert len(run.epoch_losses) == 3
    for epoch, mean in enumerate(run.epoch_losses):
        assert mean == pytest.approx(np.mean([s.loss for s in run.steps if s.epoch == epoch]))
    assert run.epoch_losses[0] > run.epoch_losses[1] > run.epoch_losses[2]


def test_recorded_values_are_float64_copies():
    run = train(LINEAR, SHORT)
    for step in run.steps:
        assert all(isinstance(v, np.ndarray) for v in [*step.params.values(), *step.grads.values()])
    assert isinstance(run.final_params["w"], np.ndarray)
    assert run.steps[0].params["w"].dtype == np.float64
    assert run.steps[0].grads["w"].dtype == np.float64
    assert run.final_params["w"].dtype == np.float64
    run.steps[0].params["w"] += 100.0
    run.steps[0].grads["w"] += 100.0
    assert float(run.steps[1].params["w"]) == pytest.approx(1.02)
    assert grad(run.steps[1], "w") == pytest.approx(-7.84)


def test_problem_values_are_not_modified():
    problem = Problem("w * x", "sum((y_pred - y)**2)", {"w": [1.0, 2.0]}, X, Y)
    train(problem, SHORT)
    assert problem.params == {"w": [1.0, 2.0]}


def test_zero_epochs_train_nothing():
    run = train(LINEAR, Schedule(lr=0.01, epochs=0))
    assert run.steps == [] and run.epoch_losses == []
    assert float(run.final_params["w"]) == 1.0


# --- full batch ---

def test_full_batch_takes_one_step_per_epoch_over_all_samples():
    problem = dataclasses.replace(LINEAR, loss="mean((y_pred - y)**2)")
    run = train(problem, Schedule(lr=0.01, epochs=4, batch="full"))
    assert [(s.index, s.epoch, s.sample) for s in run.steps] == [(i, i, None) for i in range(4)]
    # d/dw mean((w x - y)^2) = mean(2 x (w x - y)) = -28/3 at w = 1
    assert grad(run.steps[0], "w") == pytest.approx(-28 / 3)
    assert float(run.steps[1].params["w"]) == pytest.approx(1 + 0.01 * 28 / 3)
    assert run.epoch_losses[0] == pytest.approx(14 / 3)


def test_full_batch_loss_that_is_not_a_single_number_is_refused():
    with pytest.raises(ValueError, match=r"shape \(3,\).*mean\("):
        train(LINEAR, Schedule(lr=0.01, epochs=1, batch="full"))


def test_unknown_batch_mode_is_refused():
    with pytest.raises(ValueError, match="batch"):
        train(LINEAR, Schedule(lr=0.01, epochs=1, batch="mini"))


# --- vectors, matrices and params inside the loss ---

def test_vector_parameters_and_samples():
    problem = Problem(forward="w @ x + b", loss="(y_pred - y)**2", params={"w": [1.0, -1.0], "b": 0.5},
                      x=[[1.0, 2.0], [3.0, 1.0]], y=[1.0, 0.0])
    run = train(problem, Schedule(lr=0.1, epochs=1))
    first = run.steps[0]  # y_pred = 1 - 2 + 0.5 = -0.5, dl/dy_pred = 2 * (-1.5) = -3
    np.testing.assert_allclose(first.grads["w"], [-3.0, -6.0])
    assert grad(first, "b") == pytest.approx(-3.0)
    np.testing.assert_allclose(run.steps[1].params["w"], [1.3, -0.4])
    assert predict(problem, run.final_params, [1.0, 1.0]).shape == ()


def test_a_parameter_in_the_loss_gets_both_gradients():
    problem = dataclasses.replace(LINEAR, loss="(y_pred - y)**2 + 0.5 * w**2")
    assert float(gradients_at(problem, {"w": 1.0}, 1.0, 2.0)["w"]) == pytest.approx(-2.0 + 1.0)


def test_gradients_at_needs_every_parameter_and_nothing_else():
    with pytest.raises(ValueError, match="missing"):
        gradients_at(QUADRATIC, {"w1": 1.0, "w2": 1.0}, 1.0, 2.0)
    with pytest.raises(ValueError, match="unknown"):
        gradients_at(LINEAR, {"w": 1.0, "v": 1.0}, 1.0, 2.0)


def test_gradients_at_probe_values():
    grads = gradients_at(QUADRATIC, {"w1": 0.5, "w2": -1.0, "b": 2.0}, 2.0, 4.0)
    residual = 2 * (0.5 * 4 - 2.0 + 2.0 - 4.0)  # 2 (y_pred - y)
    assert {n: float(g) for n, g in grads.items()} == pytest.approx({"w1": residual * 4, "w2": residual * 2,
                                                                     "b": residual})


def test_predict_returns_an_array():
    result = predict(LINEAR, {"w": 2.0}, 4.0)
    assert isinstance(result, np.ndarray) and float(result) == 8.0
    np.testing.assert_array_equal(predict(LINEAR, {"w": 2.0}, [1.0, 4.0]), [2.0, 8.0])


@pytest.mark.parametrize("name", ["x", "y", "y_pred", "exp"])
def test_a_parameter_cannot_take_a_reserved_name(name):
    with pytest.raises(ValueError, match="reserved"):
        train(Problem(forward="x", loss="(y_pred - y)**2", params={name: 1.0}, x=X, y=Y), SHORT)


def test_forward_using_an_unknown_name_is_an_expression_error():
    with pytest.raises(ExpressionError, match='unknown name "v"'):
        train(Problem(forward="v * x", loss="(y_pred - y)**2", params={"w": 1.0}, x=X, y=Y), SHORT)


def test_loss_cannot_use_x():
    with pytest.raises(ExpressionError, match='unknown name "x"'):
        train(Problem(forward="w * x", loss="(y_pred - x)**2", params={"w": 1.0}, x=X, y=Y), SHORT)


@pytest.mark.parametrize("batch", ["per-sample", "full"])
def test_mismatched_data_is_refused(batch):
    with pytest.raises(ValueError, match="x has 3 samples but y has 2"):
        train(dataclasses.replace(LINEAR, y=[2.0, 4.0]), Schedule(lr=0.01, epochs=1, batch=batch))


# --- the known mistakes ---

def variant(code: str, schedule: Schedule = SHORT, **fields) -> Variant:
    return next(v for v in mistake_variants(schedule) if v.code == code and all(
        getattr(v, k) == value for k, value in fields.items()))


def test_mistake_variants_are_the_known_ones():
    variants = mistake_variants(HOMEWORK)
    assert [v.code for v in variants] == [
        "mistake.no_zero_grad", "mistake.update_per_epoch", "mistake.gradient_ascent",
        "mistake.zero_before_update"] + ["mistake.learning_rate"] * 4
    assert sorted(v.lr for v in variants if v.lr is not None) == pytest.approx([0.001, 0.005, 0.02, 0.1])
    assert all(v.epochs is None for v in variants)


def test_full_batch_has_no_per_epoch_mistake_because_that_is_its_correct_training():
    codes = [v.code for v in mistake_variants(Schedule(lr=0.01, epochs=10, batch="full"))]
    assert "mistake.update_per_epoch" not in codes and "mistake.no_zero_grad" in codes


def test_no_zero_grad_accumulates_every_gradient():
    run = train(QUADRATIC, SHORT, variant("mistake.no_zero_grad"))
    first, second = run.steps[0], run.steps[1]
    fresh = gradients_at(QUADRATIC, second.params, X[1], Y[1])
    for name in fresh:
        np.testing.assert_allclose(second.grads[name], first.grads[name] + fresh[name], rtol=1e-15)
        # and the update uses the accumulated gradient
        np.testing.assert_array_equal(run.steps[2].params[name], second.params[name] - 0.01 * second.grads[name])
    assert train(QUADRATIC, SHORT).steps[1].grads != second.grads


def test_update_per_epoch_accumulates_over_the_epoch_then_updates_once():
    run = train(QUADRATIC, SHORT, variant("mistake.update_per_epoch"))
    start = QUADRATIC.params
    epoch0 = [s for s in run.steps if s.epoch == 0]
    for step in epoch0:  # no update inside the epoch
        assert {n: float(v) for n, v in step.params.items()} == start
    fresh = [gradients_at(QUADRATIC, start, X[i], Y[i]) for i in range(3)]
    total = {n: sum(f[n] for f in fresh) for n in start}
    for name in start:
        np.testing.assert_allclose(epoch0[-1].grads[name], total[name])
    first_of_epoch1 = run.steps[3]
    for name in start:
        np.testing.assert_allclose(first_of_epoch1.params[name], start[name] - 0.01 * total[name])
    # zeroed after the update: the next epoch starts from a fresh gradient
    expected = gradients_at(QUADRATIC, first_of_epoch1.params, X[0], Y[0])
    for name in start:
        np.testing.assert_allclose(first_of_epoch1.grads[name], expected[name])


def test_gradient_ascent_moves_uphill():
    run = train(LINEAR, SHORT, variant("mistake.gradient_ascent"))
    assert float(run.steps[1].params["w"]) == pytest.approx(1.0 + 0.01 * -2.0)
    assert run.epoch_losses[-1] > run.epoch_losses[0]


def test_zero_before_update_never_moves_the_params():
    run = train(QUADRATIC, SHORT, variant("mistake.zero_before_update"))
    correct_first_epoch = train(QUADRATIC, Schedule(lr=0.01, epochs=1)).steps
    for step in run.steps:
        assert {n: float(v) for n, v in step.params.items()} == QUADRATIC.params
        expected = gradients_at(QUADRATIC, QUADRATIC.params, X[step.sample], Y[step.sample])
        assert {n: float(g) for n, g in step.grads.items()} == {n: float(g) for n, g in expected.items()}
    assert {n: float(v) for n, v in run.final_params.items()} == QUADRATIC.params
    assert grad(run.steps[0], "w1") == grad(correct_first_epoch[0], "w1")


@pytest.mark.parametrize("factor", [10.0, 0.1, 2.0, 0.5])
def test_wrong_learning_rate_scales_the_first_update(factor):
    run = train(LINEAR, SHORT, variant("mistake.learning_rate", lr=0.01 * factor))
    assert float(run.steps[1].params["w"]) == pytest.approx(1.0 - 0.01 * factor * -2.0)


def test_variant_epochs_override_the_schedule():
    run = train(LINEAR, HOMEWORK, Variant(code="short", epochs=2))
    assert len(run.steps) == 6 and len(run.epoch_losses) == 2
    assert [s.grads for s in run.steps] == [s.grads for s in train(LINEAR, HOMEWORK).steps[:6]]


def test_the_correct_variant_is_the_default():
    assert Variant() == Variant(code="correct", zero_grad=True, lr=None, update="per-step", sign=-1, epochs=None)
    assert train(LINEAR, SHORT, Variant()).final_params == train(LINEAR, SHORT).final_params


def test_unknown_update_mode_is_refused():
    with pytest.raises(ValueError, match="update"):
        train(LINEAR, SHORT, Variant(update="sometimes"))


def test_a_diverging_mistake_runs_to_inf_without_warnings(recwarn):
    run = train(QUADRATIC, Schedule(lr=0.01, epochs=300), variant("mistake.learning_rate", lr=0.1))
    assert not np.isfinite(run.epoch_losses[-1])
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
