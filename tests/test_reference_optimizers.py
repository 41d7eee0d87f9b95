"""The reference's optimisers and batch schedules, step for step against torch.optim on the same data."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.reference import LBFGSSettings, Problem, Schedule, Variant, train, train_lbfgs, updates

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)
X = RNG.uniform(-1, 1, size=(7, 3))
Y = RNG.integers(0, 2, size=(7, 1)).astype(float)
W0, B0 = RNG.uniform(-0.5, 0.5, size=(2, 3)), RNG.uniform(-0.5, 0.5, size=(2,))
V0 = RNG.uniform(-0.5, 0.5, size=(1, 2))
PROBLEM = Problem(forward="sigmoid(linear(tanh(linear(x, W, b)), V))", loss="bce(y_pred, y)",
                  params={"W": W0.tolist(), "b": B0.tolist(), "V": V0.tolist()}, x=X.tolist(), y=Y.tolist())


OTHERS = {"adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop, "adamax": torch.optim.Adamax}


def torch_run(schedule: Schedule, zero_grad: bool = True):
    params = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
              for name, value in (("W", W0), ("b", B0), ("V", V0))}
    kwargs = {"lr": schedule.lr, "weight_decay": schedule.weight_decay}
    if schedule.optimizer == "sgd":
        optimizer = torch.optim.SGD(params.values(), momentum=schedule.momentum, nesterov=schedule.nesterov, **kwargs)
    elif schedule.optimizer in ("adam", "adamw"):
        adam = torch.optim.Adam if schedule.optimizer == "adam" else torch.optim.AdamW
        optimizer = adam(params.values(), betas=schedule.betas, eps=schedule.eps, **kwargs)
    elif schedule.optimizer == "rprop":  # at torch's defaults, and without weight decay
        optimizer = torch.optim.Rprop(params.values(), lr=schedule.lr)
    else:
        optimizer = OTHERS[schedule.optimizer](params.values(), **kwargs)
    x, y = torch.tensor(X), torch.tensor(Y)
    size = {"full": len(X), "per-sample": 1}.get(schedule.batch, schedule.batch)
    grads = []
    for _ in range(schedule.epochs):
        for start in range(0, len(X), size):
            xb, yb = (x[start], y[start]) if schedule.batch == "per-sample" else (x[start:start + size], y[start:start + size])
            h = torch.sigmoid(torch.nn.functional.linear(torch.tanh(torch.nn.functional.linear(xb, params["W"], params["b"])),
                                                         params["V"]))
            loss = torch.nn.functional.binary_cross_entropy(h, yb)
            if zero_grad:
                optimizer.zero_grad()
            loss.backward()
            grads.append({n: p.grad.numpy().copy() for n, p in params.items()})
            optimizer.step()
    return grads, {n: p.detach().numpy() for n, p in params.items()}


def assert_same_run(schedule: Schedule, variant: Variant = Variant(), zero_grad: bool = True):
    ours = train(PROBLEM, schedule, variant)
    grads, final = torch_run(schedule, zero_grad)
    assert len(ours.steps) == len(grads)
    for step, expected in zip(ours.steps, grads):
        for name, grad in expected.items():
            np.testing.assert_allclose(step.grads[name], grad, rtol=1e-9, atol=1e-12, err_msg=f"step {step.index} {name}")
    for name, value in final.items():
        np.testing.assert_allclose(ours.final_params[name], value, rtol=1e-9, atol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(optimizer=st.sampled_from(["sgd", "adam"]), batch=st.sampled_from(["per-sample", "full", 2, 3, 7, 10]),
       momentum=st.sampled_from([0.0, 0.9]), weight_decay=st.sampled_from([0.0, 0.01]),
       lr=st.sampled_from([0.01, 0.1]))
def test_optimizers_and_batches_match_torch_optim_step_for_step(optimizer, batch, momentum, weight_decay, lr):
    assert_same_run(Schedule(lr=lr, epochs=3, batch=batch, optimizer=optimizer, weight_decay=weight_decay,
                             momentum=momentum if optimizer == "sgd" else 0.0))


@pytest.mark.parametrize("batch", ["per-sample", "full", 3])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_nesterov_momentum_matches_torch(batch, weight_decay):
    assert_same_run(Schedule(lr=0.05, epochs=3, batch=batch, momentum=0.9, nesterov=True, weight_decay=weight_decay))


@pytest.mark.parametrize("batch", ["per-sample", "full", 3])
@pytest.mark.parametrize("weight_decay", [0.01, 0.1])
def test_adamw_decays_the_parameters_apart_from_the_gradient_as_torch_does(batch, weight_decay):
    assert_same_run(Schedule(lr=0.05, epochs=3, batch=batch, optimizer="adamw", weight_decay=weight_decay))


def test_the_update_rules_take_the_schedules_options():
    values, grads = [np.array([1.0, -2.0])] * 2, [np.array([0.5, 0.25]), np.array([0.25, 0.5])]
    plain = updates("sgd", 0.1, values, grads)
    decayed = updates("sgd", 0.1, values, grads, weight_decay=0.5)
    np.testing.assert_allclose(decayed[0] - plain[0], -0.1 * 0.5 * values[0])


def test_adam_with_other_betas_and_eps():
    assert_same_run(Schedule(lr=0.05, epochs=4, batch=3, optimizer="adam", betas=(0.5, 0.9), eps=1e-3))


@pytest.mark.parametrize("optimizer", ["adagrad", "rmsprop", "adamax", "rprop"])
@pytest.mark.parametrize("batch", ["per-sample", "full", 3])
def test_the_other_optimizers_match_torch_at_their_defaults(optimizer, batch):
    assert_same_run(Schedule(lr=0.05, epochs=4, batch=batch, optimizer=optimizer))


@pytest.mark.parametrize("optimizer", ["adagrad", "rmsprop", "adamax"])
def test_the_other_optimizers_with_weight_decay_match_torch(optimizer):
    assert_same_run(Schedule(lr=0.05, epochs=2, batch=2, optimizer=optimizer, weight_decay=0.01))


def test_lbfgs_updates_match_torch_between_closure_evaluations():
    """torch's LBFGS makes one update between two evaluations of its closure; steps of 20 iterations chain."""
    w = torch.tensor(W0.ravel(), dtype=torch.float64, requires_grad=True)
    x, y = torch.tensor(X), torch.tensor(Y)
    optimizer = torch.optim.LBFGS([w], lr=0.5, max_iter=5, tolerance_grad=0, tolerance_change=0)
    values, grads = [], []

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy(torch.sigmoid(x @ w.reshape(2, 3).T).mean(1, keepdim=True), y)
        loss.backward()
        values.append(w.detach().numpy().copy())
        grads.append(w.grad.numpy().copy())
        return loss

    for _ in range(3):
        optimizer.step(closure)
    ours = updates("lbfgs", 0.5, values, grads)
    for k in range(len(values) - 1):
        np.testing.assert_allclose(ours[k], values[k + 1] - values[k], rtol=1e-9, atol=1e-12, err_msg=f"update {k}")


def torch_lbfgs(steps: int, **settings):
    """torch's LBFGS in float64, step() after step(): every evaluation's parameters and the final ones."""
    params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (W0, B0, V0)]
    optimizer = torch.optim.LBFGS(params, **settings)
    x, y = torch.tensor(X), torch.tensor(Y)
    evaluated = []

    def closure():
        optimizer.zero_grad()
        h = torch.sigmoid(torch.nn.functional.linear(torch.tanh(torch.nn.functional.linear(x, params[0], params[1])),
                                                     params[2]))
        loss = torch.nn.functional.binary_cross_entropy(h, y)
        loss.backward()
        evaluated.append([p.detach().numpy().copy() for p in params])
        return loss

    for _ in range(steps):
        optimizer.step(closure)
    return evaluated, [p.detach().numpy() for p in params]


@pytest.mark.parametrize("steps, settings", [(1, {"lr": 0.1}), (7, {"lr": 0.05}), (40, {"lr": 0.5}),
                                             (3, {"lr": 0.2, "max_iter": 4}), (300, {"lr": 1.0})])
def test_lbfgs_replayed_step_after_step_matches_torch(steps, settings):
    """Every closure evaluation at torch's parameters, and the end, whether the run stops at max_iter, at
    max_eval or converges (300 steps at lr 1: later step()s evaluate once and move nothing)."""
    evaluated, final = torch_lbfgs(steps, **settings)
    ours = train_lbfgs(PROBLEM, LBFGSSettings(**{"max_eval": settings.get("max_iter", 20) * 5 // 4, **settings}),
                       len(evaluated))
    assert len(ours.steps) <= len(evaluated)
    for step, expected in zip(ours.steps, evaluated):
        for name, value in zip(("W", "b", "V"), expected):
            np.testing.assert_allclose(step.params[name], value, rtol=1e-5, atol=1e-9, err_msg=f"eval {step.index}")
    for name, value in zip(("W", "b", "V"), final):
        np.testing.assert_allclose(ours.final_params[name], value, rtol=1e-5, atol=1e-9)


def test_an_lbfgs_replay_stops_where_the_students_evaluations_end():
    evaluated, _ = torch_lbfgs(2, lr=0.1)  # 2 steps of 20 iterations: 20 + 20 evaluations
    ours = train_lbfgs(PROBLEM, LBFGSSettings(lr=0.1), 25)
    assert len(ours.steps) == 25
    for name, value in zip(("W", "b", "V"), evaluated[25]):  # the update after the 25th evaluation is made
        np.testing.assert_allclose(ours.final_params[name], value, rtol=1e-7, atol=1e-10)


def test_gradients_never_zeroed_with_an_optimizer_match_torch_without_zero_grad():
    schedule = Schedule(lr=0.05, epochs=2, batch=2, optimizer="sgd", momentum=0.9)
    assert_same_run(schedule, Variant("mistake.no_zero_grad", zero_grad=False), zero_grad=False)


def test_mini_batches_are_taken_in_order_and_the_last_may_be_short():
    run = train(PROBLEM, Schedule(lr=0.1, epochs=2, batch=3))
    assert [(s.epoch, s.batch, s.sample) for s in run.steps] == [(0, 0, None), (0, 1, None), (0, 2, None),
                                                                  (1, 0, None), (1, 1, None), (1, 2, None)]


def test_the_parameters_after_each_epoch_are_kept():
    run = train(PROBLEM, Schedule(lr=0.1, epochs=3, batch="full"))
    assert len(run.epoch_params) == 3
    np.testing.assert_array_equal(run.epoch_params[-1]["W"], run.final_params["W"])
    np.testing.assert_array_equal(run.epoch_params[0]["W"], run.steps[1].params["W"])


@pytest.mark.parametrize("change, message", [({"batch": 0}, "batch must be"), ({"batch": "mini"}, "batch must be"),
                                             ({"optimizer": "lbfgs"}, "optimizer must be")])
def test_unknown_schedules_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        train(PROBLEM, Schedule(lr=0.1, epochs=1, **change))
