"""The reference engine: each operation's gradient against finite differences, and the graph mechanics."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import grader.reference
from grader.reference import Node
from grader.reference.engine import FUNCTIONS

RNG = np.random.default_rng(20261210)


def numeric_gradients(f, arrays, h=1e-6):
    """Central differences of the scalar sum(f(*arrays)) with respect to each array."""
    grads = []
    for k, array in enumerate(arrays):
        grad = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            shifted = [a.copy() for a in arrays]
            shifted[k][index] += h
            up = f(*[Node(a) for a in shifted]).value.sum()
            shifted[k][index] -= 2 * h
            down = f(*[Node(a) for a in shifted]).value.sum()
            grad[index] = (up - down) / (2 * h)
        grads.append(grad)
    return grads


def assert_gradients_match(f, *arrays, rtol=1e-5, atol=1e-7):
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    leaves = [Node(a) for a in arrays]
    out = f(*leaves)
    out.backward()
    for leaf, expected in zip(leaves, numeric_gradients(f, arrays)):
        assert leaf.grad.shape == leaf.value.shape
        np.testing.assert_allclose(leaf.grad, expected, rtol=rtol, atol=atol)


def positive(*shape):
    return RNG.uniform(0.5, 2.0, size=shape)


def anywhere(*shape):
    return RNG.uniform(-2.0, 2.0, size=shape)


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}

BROADCAST_SHAPES = [((), ()), ((3,), (3,)), ((3,), ()), ((), (4,)), ((2, 3), (3,)), ((2, 1), (1, 3)),
                    ((2, 3), (2, 1)), ((4, 1, 3), (2, 3)), ((1,), (2, 2))]


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
def test_binary_operation_gradient_is_reduced_to_each_operands_shape(op, shapes):
    a, b = positive(*shapes[0]), positive(*shapes[1])  # positive: a**b needs it for its exponent gradient
    assert_gradients_match(BINARY[op], a, b)


def test_integer_power_of_a_negative_base():
    assert_gradients_match(lambda a: a**3 + a**2, anywhere(5))


@pytest.mark.parametrize("name, make", [("exp", anywhere), ("log", positive), ("sigmoid", anywhere),
                                        ("tanh", anywhere), ("relu", anywhere)])
def test_unary_function_gradient(name, make):
    assert_gradients_match(FUNCTIONS[name], make(2, 3))


def test_unary_minus_and_plus():
    assert_gradients_match(lambda a: -a * +a, anywhere(4))


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                    ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4))], ids=str)
def test_matmul_gradient(shapes):
    assert_gradients_match(lambda a, b: a @ b, anywhere(*shapes[0]), anywhere(*shapes[1]))


@pytest.mark.parametrize("reduce", ["sum", "mean"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, 2, -3])
def test_sum_and_mean_gradient_with_axis(reduce, axis):
    assert_gradients_match(lambda a: FUNCTIONS[reduce](a, axis=axis) * 3.0, anywhere(2, 3, 4))


def test_matmul_values_follow_numpy_for_vectors_and_matrices():
    a, b = anywhere(2, 3), anywhere(3)
    assert (Node(a) @ Node(b)).shape == (2,)
    assert (Node(b) @ Node(b)).shape == ()
    np.testing.assert_allclose((Node(a) @ b).value, a @ b)
    np.testing.assert_allclose((a @ Node(b)).value, a @ b)  # ndarray on the left defers to Node


def test_matmul_of_shapes_that_do_not_fit_says_so():
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(2,\) do not fit for @"):
        Node(anywhere(2, 3)) @ Node(anywhere(2))


def test_numbers_and_arrays_on_either_side_of_an_operator():
    w = Node(2.0)
    out = 1 - w / 4 + 3 * w - 2 ** w + np.array([1.0, 2.0]) * w
    out.backward()
    np.testing.assert_allclose(out.value, 1 - 0.5 + 6 - 4 + np.array([2.0, 4.0]))
    # backward() of a vector differentiates its sum: both elements carry the scalar terms
    assert w.grad == pytest.approx(2 * (-0.25 + 3 - 4 * np.log(2)) + (1 + 2))


def test_a_node_used_twice_collects_both_gradients():
    w = Node(3.0)
    y = w * w + w
    y.backward()
    assert w.grad == pytest.approx(7.0)


def test_leaf_gradients_accumulate_across_backward_calls_like_torch():
    w = Node(3.0)
    y = w * w
    y.backward()
    y.backward()  # intermediate gradients are recomputed; only the leaf accumulates
    assert w.grad == pytest.approx(12.0)


def test_backward_of_a_leaf_seeds_one():
    w = Node([1.0, 2.0])
    w.backward()
    np.testing.assert_array_equal(w.grad, [1.0, 1.0])


def test_sigmoid_is_stable_far_from_zero():
    a = Node([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        s = a.sigmoid()
        s.sum().backward()
    np.testing.assert_allclose(s.value, [0.0, 1 / (1 + np.exp(30.0)), 0.5, 1 / (1 + np.exp(-30.0)), 1.0])
    assert np.all(np.isfinite(a.grad))
    assert a.grad[2] == 0.25


def test_relu_gradient_is_zero_at_the_kink():
    a = Node([-1.0, 0.0, 2.0])
    a.relu().sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.0, 1.0])


def test_power_gradients_at_zero_follow_torch():
    a, b = Node([0.0, 0.0, 2.0]), Node([0.0, 2.0, 0.0])
    (a**b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.0, 0.0])  # b == 0: no gradient to the base, even at 0
    np.testing.assert_array_equal(b.grad, [0.0, 0.0, np.log(2.0)])  # a == 0, b >= 0: none to the exponent


def test_values_are_float64_whatever_they_start_as():
    assert Node(1).value.dtype == np.float64
    assert Node(np.array([1, 2], dtype=np.int32)).value.dtype == np.float64
    assert (Node(np.float32(0.1)) * 1).value.dtype == np.float64


def test_a_deep_graph_does_not_hit_the_recursion_limit():
    w = Node(1.0)
    y = w
    for _ in range(5000):
        y = y + w
    y.backward()
    assert w.grad == 5001.0


def test_the_reference_never_imports_torch():
    """It must stay independent of what the student's code runs on."""
    package = Path(grader.reference.__file__).parent
    for source in package.glob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+torch", source.read_text(), re.MULTILINE), source
    code = ("import sys, grader.reference as r; "
            "r.train(r.Problem('w * x', '(y_pred - y)**2', {'w': 1.0}, [1.0], [2.0]), r.Schedule(0.01, 1)); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=package.parent.parent)
    assert result.stdout.strip() == "[]"
