"""Tensors in the reference: layers, losses, matrix products and reductions on random shapes, against torch.autograd.

Only the tests import torch; the reference never does.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.reference import ExpressionError, Node, compile_expression

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL, ATOL = 1e-7, 1e-10
SCALE_ATOL = 1e-9  # of the largest element of a gradient
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
dims = st.integers(1, 5)
reductions = st.sampled_from(["mean", "sum", "none"])


def reference(text, leaves, data=None):
    nodes = {name: Node(value) for name, value in leaves.items()}
    out = compile_expression(text).evaluate({**nodes, **(data or {})})
    out.backward()
    return out.value, {name: node.grad for name, node in nodes.items()}


def torch_grads(function, leaves):
    tensors = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in leaves.items()}
    out = function(**tensors)
    out.backward(torch.ones_like(out))
    return out.detach().numpy(), {name: t.grad.numpy() for name, t in tensors.items()}


def assert_same(ours, theirs):
    np.testing.assert_allclose(ours[0], theirs[0], rtol=RTOL, atol=ATOL)
    for name, grad in theirs[1].items():
        assert ours[1][name].shape == grad.shape, name
        # an element that is a near-cancelling sum of large terms differs by float64 rounding of the terms, not of
        # itself (-0.0011999173 against -0.0011999176 in a gradient whose largest element is 2.8): the absolute
        # tolerance follows the gradient's own scale; a wrong gradient is off by far more
        atol = max(ATOL, SCALE_ATOL * float(np.max(np.abs(grad), initial=0.0)))
        np.testing.assert_allclose(ours[1][name], grad, rtol=RTOL, atol=atol, err_msg=name)


def arrays(shape, seed, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


@SETTINGS
@given(n=dims, d_in=dims, d_out=dims, batched=st.booleans(), with_bias=st.booleans(), seed=st.integers(0, 10**6))
def test_linear_is_torch_linear(n, d_in, d_out, batched, with_bias, seed):
    x = arrays((n, d_in) if batched else (d_in,), seed)
    leaves = {"W": arrays((d_out, d_in), seed + 1)}
    if with_bias:
        leaves["b"] = arrays((d_out,), seed + 2)
    text = "linear(x, W, b)" if with_bias else "linear(x, W)"
    ours = reference(text, leaves, {"x": x})
    theirs = torch_grads(lambda **t: F.linear(torch.tensor(x), t["W"], t.get("b")), leaves)
    assert_same(ours, theirs)


@SETTINGS
@given(shape=st.lists(dims, min_size=0, max_size=3), reduction=reductions, seed=st.integers(0, 10**6))
def test_mse_is_torch_mse_loss(shape, reduction, seed):
    leaves = {"p": arrays(shape, seed), "y": arrays(shape, seed + 1)}
    ours = reference(f'mse(p, y, reduction="{reduction}")', leaves)
    theirs = torch_grads(lambda p, y: F.mse_loss(p, y, reduction=reduction), leaves)
    assert_same(ours, theirs)


@SETTINGS
@given(shape=st.lists(dims, min_size=0, max_size=3), reduction=reductions, seed=st.integers(0, 10**6))
def test_bce_is_torch_bce_loss(shape, reduction, seed):
    p = arrays(shape, seed, 0.01, 0.99)
    y = np.random.default_rng(seed + 1).integers(0, 2, size=shape).astype(float)
    ours = reference(f'bce(p, y, reduction="{reduction}")', {"p": p}, {"y": y})
    theirs = torch_grads(lambda p: F.binary_cross_entropy(p, torch.tensor(y), reduction=reduction), {"p": p})
    assert_same(ours, theirs)


def test_bce_at_zero_and_one_is_finite_as_torch_clamps_it():
    p, y = np.array([0.0, 1.0, 0.0, 1.0, 1e-30]), np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    ours = reference('bce(p, y, reduction="sum")', {"p": p}, {"y": y})
    theirs = torch_grads(lambda p: F.binary_cross_entropy(p, torch.tensor(y), reduction="sum"), {"p": p})
    assert np.isfinite(ours[0]) and ours[0] == pytest.approx(200.0 + 69.07755278982137)
    assert_same(ours, theirs)


@SETTINGS
@given(shape=st.lists(dims, min_size=0, max_size=3), reduction=reductions, seed=st.integers(0, 10**6),
       scale=st.sampled_from([1.0, 30.0, 800.0]))
def test_bce_logits_is_torch_bce_with_logits_and_never_overflows(shape, reduction, seed, scale):
    z = arrays(shape, seed) * scale
    y = np.random.default_rng(seed + 1).integers(0, 2, size=shape).astype(float)
    ours = reference(f'bce_logits(z, y, reduction="{reduction}")', {"z": z}, {"y": y})
    theirs = torch_grads(lambda z: F.binary_cross_entropy_with_logits(z, torch.tensor(y), reduction=reduction),
                         {"z": z})
    assert np.all(np.isfinite(ours[0]))
    assert_same(ours, theirs)


@SETTINGS
@given(n=dims, classes=st.integers(2, 6), batched=st.booleans(), reduction=reductions,
       seed=st.integers(0, 10**6), scale=st.sampled_from([1.0, 50.0, 1000.0]))
def test_cross_entropy_is_torch_cross_entropy_with_integer_labels(n, classes, batched, reduction, seed, scale):
    z = arrays((n, classes) if batched else (classes,), seed) * scale
    rng = np.random.default_rng(seed + 1)
    labels = rng.integers(0, classes, size=(n,) if batched else ()).astype(float)
    ours = reference(f'cross_entropy(z, y, reduction="{reduction}")', {"z": z}, {"y": labels})
    theirs = torch_grads(lambda z: F.cross_entropy(z, torch.tensor(labels, dtype=torch.long), reduction=reduction),
                         {"z": z})
    assert np.all(np.isfinite(ours[0]))
    assert_same(ours, theirs)


@pytest.mark.parametrize("labels, problem", [
    ([0.5, 1.0], "whole-number class labels"),
    ([0.0, 3.0], "whole-number class labels from 0 to 2"),
    ([0.0], "one label per row"),
])
def test_cross_entropy_refuses_labels_that_are_not_classes(labels, problem):
    with pytest.raises(ExpressionError, match=problem):
        reference("cross_entropy(z, y)", {"z": np.zeros((2, 3))}, {"y": np.array(labels)})


@pytest.mark.parametrize("text", ["mse(p, y)", "bce(p, y)", "bce_logits(p, y)"])
def test_losses_refuse_a_target_of_another_shape(text):
    # (N, 1) against (N,) would broadcast to an (N, N) loss in torch's mse: a spec mistake, said at once
    with pytest.raises(ExpressionError, match="same shape"):
        reference(text, {"p": np.full((3, 1), 0.5)}, {"y": np.zeros(3)})


@SETTINGS
@given(batch=st.lists(dims, min_size=0, max_size=2), n=dims, k=dims, m=dims, seed=st.integers(0, 10**6))
def test_broadcast_matmul_transpose_and_axis_reductions(batch, n, k, m, seed):
    leaves = {"A": arrays((*batch, n, k), seed), "B": arrays((k, m), seed + 1), "c": arrays((m,), seed + 2)}
    text = "mean(sum(tanh(A @ B + c) * transpose(A @ B), axis=-1), axis=0) * 2"
    try:
        theirs = torch_grads(lambda A, B, c: (torch.tanh(A @ B + c) * (A @ B).mT).sum(dim=-1).mean(dim=0) * 2,
                             leaves)
    except RuntimeError:  # shapes that do not fit: refused with the reason, as torch refuses them
        with pytest.raises(ExpressionError, match="cannot compute"):
            reference(text, leaves)
        return
    assert_same(reference(text, leaves), theirs)


@SETTINGS
@given(n=dims, widths=st.lists(st.integers(1, 6), min_size=2, max_size=4), seed=st.integers(0, 10**6),
       activation=st.sampled_from(["sigmoid", "tanh", "relu"]))
def test_a_multi_layer_network_with_bce_matches_torch(n, widths, seed, activation):
    leaves, text = {}, "x"
    for i, (d_in, d_out) in enumerate(zip(widths, widths[1:] + [1])):
        leaves[f"W{i}"], leaves[f"b{i}"] = arrays((d_out, d_in), seed + 2 * i), arrays((d_out,), seed + 2 * i + 1)
        layer = f"linear({text}, W{i}, b{i})"
        text = f"sigmoid({layer})" if i == len(widths) - 1 else f"{activation}({layer})"
    x = arrays((n, widths[0]), seed + 99)
    y = np.random.default_rng(seed).integers(0, 2, size=(n, 1)).astype(float)
    act = getattr(torch, activation)

    def network(**t):
        h = torch.tensor(x)
        for i in range(len(widths)):
            h = F.linear(h, t[f"W{i}"], t[f"b{i}"])
            h = torch.sigmoid(h) if i == len(widths) - 1 else act(h)
        return F.binary_cross_entropy(h, torch.tensor(y))

    assert_same(reference(f"bce({text}, y)", leaves, {"x": x, "y": y}), torch_grads(network, leaves))


@pytest.mark.parametrize("text, message", [
    ('mse(p, y, reduction="avg")', 'needs "mean", "sum" or "none"'),
    ("mse(p, y, reduction=sum)", 'needs "mean", "sum" or "none"'),
    ("mse(p)", "mse() takes 2 arguments, got 1"),
    ("linear(p)", "linear() takes 2 or 3 arguments, got 1"),
    ('exp(p, reduction="sum")', 'keyword "reduction=" is not allowed in exp(...): keywords: none'),
    ("mse(p, y, axis=0)", 'keywords: only reduction="mean"|"sum"|"none"'),
    ("model.linear.weight * p", 'attribute access "model.linear.weight" is not allowed'),
])
def test_new_functions_are_checked_when_compiled(text, message):
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)").replace("|", r"\|")):
        compile_expression(text, {"p", "y"})


def test_a_dotted_parameter_name_is_a_name_when_the_spec_defines_it():
    compiled = compile_expression("linear(x, model.linear.weight, model.linear.bias)",
                                  {"x", "model.linear.weight", "model.linear.bias"})
    assert compiled.names == {"x", "model.linear.weight", "model.linear.bias"}
    out = compiled.evaluate({"x": np.array([[2.0]]), "model.linear.weight": np.array([[3.0]]),
                             "model.linear.bias": np.array([1.0])})
    assert out.value.tolist() == [[7.0]]
