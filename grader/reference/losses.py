"""The standard layers and losses of the expression language, each computed as torch computes it.

`linear(x, W, b)` is torch.nn.functional.linear (x @ Wᵀ + b). The losses take `reduction` as torch
does ("mean", the default, "sum" or "none"): `mse` is nn.MSELoss, `bce` nn.BCELoss (on probabilities,
its logs clamped at -100 and its gradient's denominator at 1e-12, as torch does), `bce_logits`
nn.BCEWithLogitsLoss (on logits, by log-sum-exp, so it never overflows) and `cross_entropy`
nn.CrossEntropyLoss (logits of shape (C,) or (N, C), integer class labels).
"""
from __future__ import annotations

import numpy as np

from .engine import Node, _node

REDUCTIONS = ("mean", "sum", "none")
BCE_LOG_FLOOR = -100.0  # torch clamps log(p) and log(1 - p) here, so p = 0 or 1 gives a finite loss
BCE_EPSILON = 1e-12     # torch's floor for p(1 - p) in the gradient


def _reduce(loss: Node, reduction: str) -> Node:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}, not {reduction!r}")
    if reduction == "none":
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


def _same_shape(name: str, a: Node, b: Node) -> None:
    # torch refuses (bce) or warns and broadcasts (mse); (N, 1) against (N,) silently gives an (N, N)
    # loss, almost always a spec mistake, so both are refused here
    if a.shape != b.shape:
        raise ValueError(f"{name}() needs a prediction and a target of the same shape, got {a.shape} and {b.shape}")


def linear(x, weight, bias=None) -> Node:
    out = _node(x) @ _node(weight).transpose()
    return out if bias is None else out + bias


def mse(y_pred, y, reduction: str = "mean") -> Node:
    y_pred, y = _node(y_pred), _node(y)
    _same_shape("mse", y_pred, y)
    diff = y_pred - y
    return _reduce(diff * diff, reduction)


def bce(p, y, reduction: str = "mean") -> Node:
    p, y = _node(p), _node(y)
    _same_shape("bce", p, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = np.maximum(np.log(p.value), BCE_LOG_FLOOR)
        log_q = np.maximum(np.log(1.0 - p.value), BCE_LOG_FLOOR)
    out = Node(-(y.value * log_p + (1.0 - y.value) * log_q), (p, y), "bce")

    def _backward():
        p.grad += out.grad * (p.value - y.value) / np.maximum((1.0 - p.value) * p.value, BCE_EPSILON)
        y.grad += out.grad * (log_q - log_p)

    out._backward = _backward
    return _reduce(out, reduction)


def bce_logits(z, y, reduction: str = "mean") -> Node:
    z, y = _node(z), _node(y)
    _same_shape("bce_logits", z, y)
    a = z.value
    # max(a, 0) - a*y + log(1 + e^-|a|): the exponent is never positive
    out = Node(np.maximum(a, 0.0) - a * y.value + np.log1p(np.exp(-np.abs(a))), (z, y), "bce_logits")

    def _backward():
        e = np.exp(-np.abs(a))
        sigmoid = np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        z.grad += out.grad * (sigmoid - y.value)
        y.grad += out.grad * -a

    out._backward = _backward
    return _reduce(out, reduction)


def cross_entropy(logits, labels, reduction: str = "mean") -> Node:
    logits = _node(logits)
    labels = np.asarray(labels.value if isinstance(labels, Node) else labels, dtype=np.float64)
    z = logits.value
    if z.ndim not in (1, 2):
        raise ValueError(f"cross_entropy() needs logits of shape (C,) or (N, C), got {z.shape}")
    classes = z.shape[-1]
    if labels.shape != z.shape[:-1]:
        raise ValueError(f"cross_entropy() needs one label per row of logits: logits {z.shape}, labels {labels.shape}")
    if not np.all((labels == np.round(labels)) & (labels >= 0) & (labels < classes)):
        raise ValueError(f"cross_entropy() needs whole-number class labels from 0 to {classes - 1}")
    index = labels.astype(np.int64)
    shifted = z - z.max(axis=-1, keepdims=True)  # log-sum-exp without overflow
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_softmax, index[..., np.newaxis], axis=-1)[..., 0]
    out = Node(-picked, (logits,), "cross_entropy")

    def _backward():
        grad = np.exp(log_softmax)
        np.put_along_axis(grad, index[..., np.newaxis],
                          np.take_along_axis(grad, index[..., np.newaxis], axis=-1) - 1.0, axis=-1)
        logits.grad += grad * np.asarray(out.grad)[..., np.newaxis]

    out._backward = _backward
    return _reduce(out, reduction)


# name -> (function, number of positional arguments (min, max), takes reduction=)
LAYERS_AND_LOSSES = {
    "linear": (linear, (2, 3), False),
    "mse": (mse, (2, 2), True),
    "bce": (bce, (2, 2), True),
    "bce_logits": (bce_logits, (2, 2), True),
    "cross_entropy": (cross_entropy, (2, 2), True),
}
