"""A small reverse-mode autodiff over numpy arrays, in the manner of micrograd.

A `Node` holds a float64 array `value`, its `grad`, the nodes it was computed from and a `_backward`
closure that applies the local chain rule. Each operation builds its output and, right beside it, that
rule. Only add, mul, pow, matmul, exp, log, sigmoid, tanh, relu and sum carry logic; the rest is
composed from them. Broadcasting works as in numpy: gradients are summed back to each operand's shape.
"""

from __future__ import annotations

import numpy as np


def as_array(value) -> np.ndarray:
    """`value` as a float64 array (a copy, so later changes to the source do not leak in)."""
    return np.array(value, dtype=np.float64)


def _node(value) -> Node:
    return value if isinstance(value, Node) else Node(value)


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` over the axes that broadcasting added or stretched, giving it `shape`."""
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape == shape:  # the common case: nothing was broadcast
        return grad
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad.reshape(shape)


class Node:
    """A value in the computation graph; after `backward()`, `grad` is d(root)/d(this node)."""

    # numpy must not treat a Node as an array: `ndarray + Node` then falls back to Node.__radd__
    __array_ufunc__ = None

    def __init__(self, value, parents: tuple[Node, ...] = (), op: str = ""):
        # an operation's output is a fresh array of its own and gets its grad in backward(); a leaf's value is
        # copied from its source and its grad starts at zero (it accumulates across calls, as torch's does)
        if parents:
            self.value = np.asarray(value, dtype=np.float64)
            self.grad = None
        else:
            self.value = as_array(value)
            self.grad = np.zeros_like(self.value)
        self._parents = parents
        self._backward = lambda: None
        self.op = op

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def __repr__(self) -> str:
        return f"Node(value={self.value!r}, grad={self.grad!r}, op={self.op!r})"

    # --- primitives: forward and local chain rule side by side ---

    def __add__(self, other) -> Node:
        other = _node(other)
        out = Node(self.value + other.value, (self, other), "+")

        def _backward():
            self.grad += _unbroadcast(out.grad, self.shape)
            other.grad += _unbroadcast(out.grad, other.shape)

        out._backward = _backward
        return out

    def __mul__(self, other) -> Node:
        other = _node(other)
        out = Node(self.value * other.value, (self, other), "*")

        def _backward():
            self.grad += _unbroadcast(other.value * out.grad, self.shape)
            other.grad += _unbroadcast(self.value * out.grad, other.shape)

        out._backward = _backward
        return out

    def __pow__(self, exponent) -> Node:
        base_only = not isinstance(exponent, Node)  # a plain number: no gradient flows to it
        exponent = _node(exponent)
        a, b = self.value, exponent.value
        with np.errstate(all="ignore"):
            out = Node(a**b, (self, exponent), "**")

        def _backward():
            # like torch: d(a**0)/da is 0 even at a == 0, where b * a**(b-1) would be 0 * inf
            d_base = np.where(b == 0, 0.0, b * a ** (b - 1))
            self.grad += _unbroadcast(d_base * out.grad, self.shape)
            if not base_only:
                # like torch: d(0**b)/db is 0 for b >= 0, where a**b * log(a) would be 0 * -inf
                d_exp = np.where((a == 0) & (b >= 0), 0.0, out.value * np.log(a))
                exponent.grad += _unbroadcast(d_exp * out.grad, exponent.shape)

        out._backward = _backward
        return out

    def __matmul__(self, other) -> Node:
        other = _node(other)
        try:
            out = Node(self.value @ other.value, (self, other), "@")
        except ValueError:  # numpy's message speaks of gufunc signatures
            raise ValueError(f"shapes {self.shape} and {other.shape} do not fit for @ (matrix product)") from None

        def _backward():
            a, b, g = self.value, other.value, out.grad
            # a 1-D operand is a row (left) or a column (right) whose axis matmul dropped from the result
            if b.ndim == 1:
                b, g = b[:, np.newaxis], g[..., np.newaxis]
            if a.ndim == 1:
                a, g = a[np.newaxis, :], g[..., np.newaxis, :]
            grad_a = g @ np.swapaxes(b, -1, -2)
            grad_b = np.swapaxes(a, -1, -2) @ g
            self.grad += _unbroadcast(grad_a, a.shape).reshape(self.shape)
            other.grad += _unbroadcast(grad_b, b.shape).reshape(other.shape)

        out._backward = _backward
        return out

    def exp(self) -> Node:
        with np.errstate(over="ignore"):
            out = Node(np.exp(self.value), (self,), "exp")

        def _backward():
            self.grad += out.value * out.grad

        out._backward = _backward
        return out

    def log(self) -> Node:
        with np.errstate(all="ignore"):
            out = Node(np.log(self.value), (self,), "log")

        def _backward():
            self.grad += out.grad / self.value

        out._backward = _backward
        return out

    def sigmoid(self) -> Node:
        # exp of a non-positive number never overflows: 1/(1+e^-a) for a >= 0, e^a/(1+e^a) below
        z = np.exp(-np.abs(self.value))
        out = Node(np.where(self.value >= 0, 1.0 / (1.0 + z), z / (1.0 + z)), (self,), "sigmoid")

        def _backward():
            self.grad += out.value * (1.0 - out.value) * out.grad

        out._backward = _backward
        return out

    def tanh(self) -> Node:
        out = Node(np.tanh(self.value), (self,), "tanh")

        def _backward():
            self.grad += (1.0 - out.value**2) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Node:
        out = Node(np.maximum(self.value, 0.0), (self,), "relu")

        def _backward():
            self.grad += (self.value > 0) * out.grad  # 0 at the kink, as torch does

        out._backward = _backward
        return out

    def sum(self, axis: int | None = None) -> Node:
        out = Node(self.value.sum(axis=axis), (self,), "sum")

        def _backward():
            g = out.grad if axis is None else np.expand_dims(out.grad, axis)
            self.grad += np.broadcast_to(g, self.shape)

        out._backward = _backward
        return out

    def transpose(self) -> Node:
        """The last two axes swapped (torch's `.mT`); a 0-d or 1-D value is its own transpose."""
        if self.value.ndim < 2:
            return self
        out = Node(np.swapaxes(self.value, -1, -2), (self,), "transpose")

        def _backward():
            self.grad += np.swapaxes(out.grad, -1, -2)

        out._backward = _backward
        return out

    # --- composed from the primitives ---

    def mean(self, axis: int | None = None) -> Node:
        count = self.value.size if axis is None else self.shape[axis]
        return self.sum(axis) * (1.0 / count)

    def __neg__(self) -> Node:
        return self * -1.0

    def __pos__(self) -> Node:
        return self

    def __sub__(self, other) -> Node:
        return self + (-_node(other))

    def __truediv__(self, other) -> Node:
        return self * _node(other) ** -1.0

    def __radd__(self, other) -> Node:
        return _node(other) + self

    def __rsub__(self, other) -> Node:
        return _node(other) - self

    def __rmul__(self, other) -> Node:
        return _node(other) * self

    def __rtruediv__(self, other) -> Node:
        return _node(other) / self

    def __rpow__(self, other) -> Node:
        return _node(other) ** self

    def __rmatmul__(self, other) -> Node:
        return _node(other) @ self

    # --- the backward pass ---

    def backward(self) -> None:
        """Fill `grad` of every node this one depends on.

        The root is seeded with ones, so a non-scalar root gives the gradient of its sum. Gradients of
        intermediate nodes are recomputed from zero; those of leaves accumulate across calls, as torch's do.
        """
        order: list[Node] = []
        seen: set[int] = set()
        stack: list[tuple[Node, bool]] = [(self, False)]
        while stack:  # iterative depth-first search: deep graphs must not hit the recursion limit
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((parent, False) for parent in node._parents)
        for node in order:
            if node._parents:
                node.grad = np.zeros_like(node.value)
        self.grad = self.grad + np.ones_like(self.value)
        with np.errstate(all="ignore"):  # inf and nan are results to report, as torch would give them
            for node in reversed(order):
                node._backward()


# the language's functions, by name; each accepts Nodes, arrays or numbers. Losses live in losses.py.
FUNCTIONS = {
    "exp": lambda a: _node(a).exp(),
    "log": lambda a: _node(a).log(),
    "sigmoid": lambda a: _node(a).sigmoid(),
    "tanh": lambda a: _node(a).tanh(),
    "relu": lambda a: _node(a).relu(),
    "sum": lambda a, axis=None: _node(a).sum(axis),
    "mean": lambda a, axis=None: _node(a).mean(axis),
    "transpose": lambda a: _node(a).transpose(),
}
