"""Trains a spec's model with the reference engine, the correct way or a known student mistake, step by step.

A run records, at every backward(), the parameters it ran at and each parameter's `.grad` right after
it, exactly what a recorder in the student's process sees; scoring compares the two traces.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .engine import Node, as_array
from .expr import FUNCTIONS, CompiledExpression, compile_expression

BATCH_MODES = ("per-sample", "full")
UPDATE_MODES = ("per-step", "per-epoch", "none")
DATA_NAMES = ("x", "y", "y_pred")
LR_FACTORS = (10.0, 0.1, 2.0, 0.5)


@dataclass(frozen=True)
class Problem:
    forward: str                 # expression over the params and `x`
    loss: str                    # expression over `y_pred`, `y` (and params allowed)
    params: dict[str, float | list]   # initial values, in the spec's order (order matters for reporting)
    x: list                      # samples (first axis)
    y: list


@dataclass(frozen=True)
class Schedule:
    lr: float
    epochs: int
    batch: str = "per-sample"    # "per-sample" or "full"


@dataclass(frozen=True)
class Variant:
    """A way of training: the correct one or a known student mistake."""

    code: str = "correct"        # e.g. "mistake.no_zero_grad"
    zero_grad: bool = True       # False: .grad accumulates across all steps
    lr: float | None = None      # None: the schedule's lr
    update: str = "per-step"     # "per-step" | "per-epoch" | "none" (grad zeroed before it is used)
    sign: int = -1               # -1 gradient descent, +1 ascent
    epochs: int | None = None    # None: the schedule's epochs


@dataclass
class Step:
    index: int                   # 0-based count of backward() calls
    epoch: int                   # 0-based
    sample: int | None           # index into the data for per-sample, None for full batch
    params: dict[str, np.ndarray]   # parameter values at which this backward ran
    grads: dict[str, np.ndarray]    # each param's .grad right after this backward (accumulated if not zeroed)
    loss: float


@dataclass
class ReferenceRun:
    steps: list[Step]
    final_params: dict[str, np.ndarray]
    epoch_losses: list[float]    # mean loss over each epoch's steps


@dataclass(frozen=True)
class _Model:
    forward: CompiledExpression
    loss: CompiledExpression
    names: tuple[str, ...]       # the parameters, in the spec's order


@functools.lru_cache(maxsize=256)
def _compile(forward: str, loss: str, names: tuple[str, ...]) -> _Model:
    clashes = [name for name in names if name in DATA_NAMES or name in FUNCTIONS]
    if clashes:
        raise ValueError(f"parameter name {clashes[0]!r} is reserved: x, y, y_pred and the function "
                         f"names cannot name a parameter")
    return _Model(compile_expression(forward, set(names) | {"x"}),
                  compile_expression(loss, set(names) | {"y_pred", "y"}), names)


def _model(problem: Problem) -> _Model:
    return _compile(problem.forward, problem.loss, tuple(problem.params))


def _param_values(model: _Model, params: dict) -> dict[str, np.ndarray]:
    """`params` as float64 arrays in the spec's order; every parameter must be given, and nothing else."""
    missing = [name for name in model.names if name not in params]
    unknown = [name for name in params if name not in model.names]
    if missing or unknown:
        raise ValueError(f"parameters {list(model.names)} expected; missing {missing}, unknown {unknown}")
    return {name: as_array(params[name]) for name in model.names}


def _loss_and_grads(model: _Model, params: dict[str, np.ndarray], x, y, where: str
                    ) -> tuple[float, dict[str, np.ndarray]]:
    """One forward and backward of loss(forward(x), y): the loss and each parameter's fresh gradient."""
    leaves = {name: Node(value) for name, value in params.items()}
    y_pred = model.forward.evaluate({**leaves, "x": x})
    loss = model.loss.evaluate({**leaves, "y_pred": y_pred, "y": y})
    if loss.value.size != 1:
        raise ValueError(f'the loss "{model.loss.text}" gives an array of shape {loss.value.shape} for {where}; '
                         f"backward() needs a single number: reduce it, e.g. mean({model.loss.text})")
    loss.backward()
    return float(loss.value.reshape(())), {name: leaf.grad for name, leaf in leaves.items()}


def train(problem: Problem, schedule: Schedule, variant: Variant = Variant()) -> ReferenceRun:
    """Train as `variant` says, recording a Step at every backward()."""
    if schedule.batch not in BATCH_MODES:
        raise ValueError(f"batch must be one of {BATCH_MODES}, not {schedule.batch!r}")
    if variant.update not in UPDATE_MODES:
        raise ValueError(f"update must be one of {UPDATE_MODES}, not {variant.update!r}")
    model = _model(problem)
    lr = schedule.lr if variant.lr is None else variant.lr
    epochs = schedule.epochs if variant.epochs is None else variant.epochs
    params = _param_values(model, problem.params)
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    x, y = as_array(problem.x), as_array(problem.y)
    if x.shape[:1] != y.shape[:1]:
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    if schedule.batch == "full":
        batches = [(None, x, y, "the whole batch")]
    else:
        batches = [(i, x[i], y[i], f"sample {i}") for i in range(len(x))]

    steps: list[Step] = []
    epoch_losses: list[float] = []
    for epoch in range(epochs):
        losses = []
        for sample, xb, yb, where in batches:
            loss, fresh = _loss_and_grads(model, params, xb, yb, where)
            grads = {n: as_array(grads[n] + fresh[n]) for n in grads}
            steps.append(Step(len(steps), epoch, sample, {n: v.copy() for n, v in params.items()},
                              {n: g.copy() for n, g in grads.items()}, loss))
            losses.append(loss)
            if variant.update == "per-step":
                params = _updated(params, grads, variant.sign * lr)
            if variant.update == "none" or (variant.update == "per-step" and variant.zero_grad):
                grads = {n: np.zeros_like(g) for n, g in grads.items()}
        if variant.update == "per-epoch":
            params = _updated(params, grads, variant.sign * lr)
            if variant.zero_grad:
                grads = {n: np.zeros_like(g) for n, g in grads.items()}
        epoch_losses.append(float(np.mean(losses)) if losses else float("nan"))
    return ReferenceRun(steps, {n: v.copy() for n, v in params.items()}, epoch_losses)


def _updated(params: dict[str, np.ndarray], grads: dict[str, np.ndarray], step: float) -> dict[str, np.ndarray]:
    # a diverging mistake (lr x10, ascent) overflows to inf: that is its result, not an error
    with np.errstate(over="ignore", invalid="ignore"):
        return {name: as_array(params[name] + step * grads[name]) for name in params}


def gradients_at(problem: Problem, params: dict[str, np.ndarray | float | list], x, y) -> dict[str, np.ndarray]:
    """Each parameter's gradient from one backward of loss(forward(x), y) at `params`."""
    model = _model(problem)
    return _loss_and_grads(model, _param_values(model, params), as_array(x), as_array(y), "these inputs")[1]


def predict(problem: Problem, params: dict, x) -> np.ndarray:
    """forward(x) at `params`; `x` is one input (or a batch, where the forward broadcasts over it)."""
    model = _model(problem)
    leaves = _param_values(model, params)
    return model.forward.evaluate({**leaves, "x": as_array(x)}).value


def mistake_variants(schedule: Schedule) -> list[Variant]:
    """The known student mistakes, as variants to train and hold a student's trace against.

    Fewer or more epochs are not here: the scorer sees them as a prefix of the correct run. With full
    batch, one update per epoch is the correct training, so it is not listed as a mistake.
    """
    variants = [Variant("mistake.no_zero_grad", zero_grad=False)]
    if schedule.batch != "full":
        variants.append(Variant("mistake.update_per_epoch", update="per-epoch"))
    variants += [Variant("mistake.gradient_ascent", sign=+1),
                 Variant("mistake.zero_before_update", update="none")]
    variants += [Variant("mistake.learning_rate", lr=schedule.lr * factor) for factor in LR_FACTORS]
    return variants
