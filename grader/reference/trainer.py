"""Trains a spec's model with the reference engine, the correct way or a known student mistake, step by step.

A run records, at every backward(), the parameters it ran at and each parameter's `.grad` right after
it, exactly what a recorder in the student's process sees; scoring compares the two traces.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from .engine import Node, as_array
from .expr import FUNCTIONS, CompiledExpression, compile_expression

BATCH_MODES = ("per-sample", "full")  # or a whole number: mini-batches of that size, in order
OPTIMIZERS = ("sgd", "adam", "adamw", "adagrad", "rmsprop", "adamax", "rprop")  # one update per backward()
STEP_RULES = OPTIMIZERS + ("lbfgs",)  # LBFGS evaluates its closure several times per step(): updates() only
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
    batch: str | int = "per-sample"   # "per-sample", "full" or a mini-batch size (batches in order, the last may be short)
    optimizer: str = "sgd"       # one of OPTIMIZERS, each exactly as torch.optim defines it (the others at
                                 #   torch's defaults: Adagrad eps 1e-10, RMSprop alpha 0.99, Rprop etas (0.5, 1.2))
    momentum: float = 0.0        # sgd
    nesterov: bool = False       # sgd with momentum: steps along grad + momentum * buffer
    weight_decay: float = 0.0    # adds weight_decay * param to the gradient (L2, as torch does); adamw decays the
                                 #   parameter itself by lr * weight_decay before its Adam step (decoupled)
    betas: tuple[float, float] = (0.9, 0.999)   # adam, adamw, adamax
    eps: float = 1e-8            # adam, adamw, adamax, rmsprop
    lr_steps: tuple[float, ...] = ()  # the lr of each step's update, when it changes during the run (a student's
                                      #   scheduler replayed); past its end the last one holds


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
    batch: int | None = None     # index of the mini-batch within its epoch (mini-batch schedules only)


@dataclass
class ReferenceRun:
    steps: list[Step]
    final_params: dict[str, np.ndarray]
    epoch_losses: list[float]    # mean loss over each epoch's steps
    epoch_params: list[dict[str, np.ndarray]] = field(default_factory=list)  # the parameters after each epoch


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


def train(problem: Problem, schedule: Schedule, variant: Variant = Variant(),
          order: list[tuple[list[int], bool]] | None = None) -> ReferenceRun:
    """Train as `variant` says, recording a Step at every backward(). `order` replays a student's own sample
    order: the rows of every step (and whether it is one sample without a batch axis), epoch after epoch,
    len(order) // epochs steps each."""
    if schedule.batch not in BATCH_MODES and not (type(schedule.batch) is int and schedule.batch >= 1):
        raise ValueError(f"batch must be one of {BATCH_MODES} or a whole number, not {schedule.batch!r}")
    if schedule.optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, not {schedule.optimizer!r}")
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
    batches = _batches(schedule.batch, x, y)
    per_epoch = len(order) // epochs if order else 0
    optimizer = _Optimizer(schedule, lr, variant.sign)

    steps: list[Step] = []
    epoch_losses: list[float] = []
    epoch_params: list[dict[str, np.ndarray]] = []
    for epoch in range(epochs):
        losses = []
        if order:
            batches = _ordered(order[epoch * per_epoch:(epoch + 1) * per_epoch], x, y)
        for sample, batch, xb, yb, where in batches:
            loss, fresh = _loss_and_grads(model, params, xb, yb, where)
            grads = {n: as_array(grads[n] + fresh[n]) for n in grads}
            steps.append(Step(len(steps), epoch, sample, {n: v.copy() for n, v in params.items()},
                              {n: g.copy() for n, g in grads.items()}, loss, batch))
            losses.append(loss)
            if variant.update == "per-step":
                if schedule.lr_steps:
                    optimizer.lr = schedule.lr_steps[min(len(steps), len(schedule.lr_steps)) - 1]
                params = optimizer.step(params, grads)
            if variant.update == "none" or (variant.update == "per-step" and variant.zero_grad):
                grads = {n: np.zeros_like(g) for n, g in grads.items()}
        if variant.update == "per-epoch":
            params = optimizer.step(params, grads)
            if variant.zero_grad:
                grads = {n: np.zeros_like(g) for n, g in grads.items()}
        epoch_losses.append(float(np.mean(losses)) if losses else float("nan"))
        epoch_params.append({n: v.copy() for n, v in params.items()})
    return ReferenceRun(steps, {n: v.copy() for n, v in params.items()}, epoch_losses, epoch_params)


def _batches(batch: str | int, x: np.ndarray, y: np.ndarray) -> list[tuple]:
    """(sample, batch index, x, y, words for errors) per step of an epoch."""
    if batch == "full":
        return [(None, None, x, y, "the whole batch")]
    if batch == "per-sample":
        return [(i, None, x[i], y[i], f"sample {i}") for i in range(len(x))]
    return [(None, k, x[start:start + batch], y[start:start + batch], f"mini-batch {k}")
            for k, start in enumerate(range(0, len(x), batch))]


def _ordered(steps: list[tuple[list[int], bool]], x: np.ndarray, y: np.ndarray) -> list[tuple]:
    """_batches' tuples for steps given by their rows."""
    return [(rows[0], None, x[rows[0]], y[rows[0]], f"sample {rows[0]}") if single
            else (None, k, x[rows], y[rows], f"mini-batch {k}") for k, (rows, single) in enumerate(steps)]


ADAGRAD_EPS = 1e-10
RMSPROP_ALPHA = 0.99
RPROP_ETAS, RPROP_STEP_SIZES = (0.5, 1.2), (1e-6, 50.0)
LBFGS_HISTORY = 100


class _Optimizer:
    """torch.optim.SGD (momentum, Nesterov, weight decay; no dampening), Adam (L2 weight decay, no amsgrad), AdamW
    (decoupled weight decay), and Adagrad, RMSprop, Adamax and Rprop at torch's defaults, step for step. `sign` +1 climbs the gradient: the
    gradient-ascent mistake."""

    def __init__(self, schedule: Schedule, lr: float, sign: int):
        self.s, self.lr, self.sign = schedule, lr, sign
        self.state: dict[str, dict] = {}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        # a diverging mistake (lr x10, ascent) overflows to inf: that is its result, not an error
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.s.optimizer == "rprop":  # its step sizes start at lr: the update is not lr times a direction
                return {name: as_array(params[name] + self.sign * self._rprop(name, grads[name])) for name in params}
            if self.s.optimizer == "adamw":  # decoupled: the parameter shrinks first, its gradient stays as it is
                return {name: as_array(params[name] * (1 - self.lr * self.s.weight_decay) + self.sign * self.lr
                                       * self._direction(name, params[name], grads[name])) for name in params}
            return {name: as_array(params[name] + self.sign * self.lr * self._direction(name, params[name], grads[name]))
                    for name in params}

    def _direction(self, name: str, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        s = self.s
        if s.weight_decay and s.optimizer != "adamw":
            grad = grad + s.weight_decay * param
        state = self.state.setdefault(name, {})
        t = state["t"] = state.get("t", 0) + 1
        if s.optimizer == "sgd":
            if not s.momentum:
                return grad
            state["buf"] = grad.copy() if "buf" not in state else s.momentum * state["buf"] + grad
            return grad + s.momentum * state["buf"] if s.nesterov else state["buf"]
        if s.optimizer == "adagrad":
            state["sum"] = state.get("sum", 0.0) + grad * grad
            return grad / (np.sqrt(state["sum"]) + ADAGRAD_EPS)
        if s.optimizer == "rmsprop":
            state["v"] = RMSPROP_ALPHA * state.get("v", 0.0) + (1 - RMSPROP_ALPHA) * grad * grad
            return grad / (np.sqrt(state["v"]) + s.eps)
        beta1, beta2 = s.betas
        state["m"] = beta1 * state.get("m", 0.0) + (1 - beta1) * grad
        if s.optimizer == "adamax":
            state["u"] = np.maximum(beta2 * state.get("u", 0.0), np.abs(grad) + s.eps)
            return state["m"] / (1 - beta1**t) / state["u"]
        state["v"] = beta2 * state.get("v", 0.0) + (1 - beta2) * grad * grad
        denom = np.sqrt(state["v"]) / np.sqrt(1 - beta2**t) + s.eps
        return state["m"] / (1 - beta1**t) / denom

    def _rprop(self, name: str, grad: np.ndarray) -> np.ndarray:
        """The step along sign(grad) (descent subtracts it): each element's step size grows by 1.2 while its
        gradient keeps its sign, halves when it flips (and that element then waits one step), within (1e-6, 50)."""
        state = self.state.setdefault(name, {})
        previous = state.get("prev", np.zeros_like(grad))
        size = state.get("size", np.full_like(grad, self.lr, dtype=np.float64))
        turn = grad * previous
        size = np.clip(size * np.where(turn > 0, RPROP_ETAS[1], np.where(turn < 0, RPROP_ETAS[0], 1.0)),
                       *RPROP_STEP_SIZES)
        grad = np.where(turn < 0, 0.0, grad)
        state["prev"], state["size"] = grad, size
        return np.sign(grad) * size


class _LBFGS:
    """torch.optim.LBFGS's update between two evaluations of its closure (no line search, default history),
    on one flat vector: the first is lr · min(1, 1/|g|₁) down the gradient, each later one lr along the
    two-loop quasi-Newton direction of the history of steps and gradient changes."""

    def __init__(self, lr: float):
        self.lr = lr
        self.dirs: list[np.ndarray] = []
        self.steps: list[np.ndarray] = []
        self.h_diag = 1.0
        self.previous: tuple[np.ndarray, np.ndarray] | None = None  # the last gradient and the last step

    def update(self, grad: np.ndarray) -> np.ndarray:
        if self.previous is None:
            d, t = -grad, min(1.0, 1.0 / max(float(np.abs(grad).sum()), 1e-300)) * self.lr
        else:
            old_grad, old_step = self.previous
            y = grad - old_grad
            ys = float(y @ old_step)
            if ys > 1e-10:
                if len(self.dirs) == LBFGS_HISTORY:
                    self.dirs.pop(0), self.steps.pop(0)
                self.dirs.append(y)
                self.steps.append(old_step)
                self.h_diag = ys / float(y @ y)
            q, alphas = -grad, []
            for y_i, s_i in zip(reversed(self.dirs), reversed(self.steps)):
                alpha = float(s_i @ q) / float(y_i @ s_i)
                alphas.append(alpha)
                q = q - alpha * y_i
            d = q * self.h_diag
            for (y_i, s_i), alpha in zip(zip(self.dirs, self.steps), reversed(alphas)):
                d = d + s_i * (alpha - float(y_i @ d) / float(y_i @ s_i))
            t = self.lr
        self.previous = (grad, t * d)
        return t * d


@dataclass(frozen=True)
class LBFGSSettings:
    """torch.optim.LBFGS's arguments (its defaults; no line search)."""
    lr: float = 1.0
    max_iter: int = 20
    max_eval: int = 25         # torch: max_iter * 5 // 4
    tolerance_grad: float = 1e-7
    tolerance_change: float = 1e-9


def train_lbfgs(problem: Problem, settings: LBFGSSettings, evaluations: int) -> ReferenceRun:
    """torch.optim.LBFGS's step() (no line search) on the whole batch, called again and again until its closure
    has been evaluated `evaluations` times (one backward() each: the student's count) or until a step() moves
    nothing: a converged run ends where it is, whatever float32 made of its last evaluations. A Step per
    evaluation; an epoch is one step()."""
    model = _model(problem)
    params = _param_values(model, problem.params)
    names = list(params)
    shapes = {n: params[n].shape for n in names}
    sizes = [int(np.prod(shapes[n])) for n in names]
    x, y = as_array(problem.x), as_array(problem.y)
    steps: list[Step] = []

    def unflat(flat: np.ndarray) -> dict[str, np.ndarray]:
        parts = np.split(flat, np.cumsum(sizes)[:-1])
        return {n: part.reshape(shapes[n]) for n, part in zip(names, parts)}

    def closure(flat: np.ndarray, epoch: int) -> tuple[float, np.ndarray]:
        values = unflat(flat)
        loss, grads = _loss_and_grads(model, values, x, y, "the whole batch")
        steps.append(Step(len(steps), epoch, None, values, grads, loss))
        return loss, np.concatenate([np.asarray(grads[n], dtype=np.float64).ravel() for n in names])

    flat = np.concatenate([params[n].ravel() for n in names]).astype(np.float64)
    lbfgs = _LBFGSState(settings)
    epoch_losses, epoch_params = [], []
    with np.errstate(all="ignore"):
        while len(steps) < evaluations:
            before = flat.copy()
            flat, loss = lbfgs.step(flat, lambda v, e=len(epoch_losses): closure(v, e), evaluations - len(steps))
            epoch_losses.append(loss)
            epoch_params.append(unflat(flat.copy()))
            if np.array_equal(flat, before) or not np.all(np.isfinite(flat)):
                break
    return ReferenceRun(steps, unflat(flat), epoch_losses, epoch_params)


class _LBFGSState:
    """torch/optim/lbfgs.py's step() without line search, line for line, its state kept between calls."""

    def __init__(self, s: LBFGSSettings):
        self.s = s
        self.n_iter = 0
        self.d = self.t = self.prev_grad = None
        self.prev_loss = 0.0
        self.dirs: list[np.ndarray] = []
        self.stps: list[np.ndarray] = []
        self.h_diag = 1.0

    def step(self, flat: np.ndarray, closure, budget: int) -> tuple[np.ndarray, float]:
        s = self.s
        loss, grad = closure(flat)
        orig_loss, evals = loss, 1
        if np.max(np.abs(grad), initial=0.0) <= s.tolerance_grad:
            return flat, orig_loss
        n_iter = 0
        while n_iter < s.max_iter:
            n_iter += 1
            self.n_iter += 1
            if self.n_iter == 1:
                self.d, self.dirs, self.stps, self.h_diag = -grad, [], [], 1.0
            else:
                self.d = self._direction(grad)
            self.prev_grad, self.prev_loss = grad.copy(), loss
            self.t = min(1.0, 1.0 / np.abs(grad).sum()) * s.lr if self.n_iter == 1 else s.lr
            if float(grad @ self.d) > -s.tolerance_change:
                break
            flat = flat + self.t * self.d
            if n_iter != s.max_iter:
                if evals >= budget:  # the student's evaluations are all spent: the update stands, unevaluated
                    break
                loss, grad = closure(flat)
                evals += 1
            if n_iter == s.max_iter or evals >= s.max_eval or np.max(np.abs(grad)) <= s.tolerance_grad:
                break
            if np.max(np.abs(self.t * self.d)) <= s.tolerance_change or abs(loss - self.prev_loss) < s.tolerance_change:
                break
        return flat, orig_loss

    def _direction(self, grad: np.ndarray) -> np.ndarray:
        y = grad - self.prev_grad
        step = self.d * self.t
        ys = float(y @ step)
        if ys > 1e-10:
            if len(self.dirs) == LBFGS_HISTORY:
                self.dirs.pop(0), self.stps.pop(0)
            self.dirs.append(y)
            self.stps.append(step)
            self.h_diag = ys / float(y @ y)
        q, alphas = -grad, []
        for y_i, s_i in zip(reversed(self.dirs), reversed(self.stps)):
            alpha = float(s_i @ q) / float(y_i @ s_i)
            alphas.append(alpha)
            q = q - alpha * y_i
        r = q * self.h_diag
        for (y_i, s_i), alpha in zip(zip(self.dirs, self.stps), reversed(alphas)):
            r = r + s_i * (alpha - float(y_i @ r) / float(y_i @ s_i))
        return r


def updates(optimizer: str, lr: float, values: list[np.ndarray], grads: list[np.ndarray], **options
            ) -> list[np.ndarray]:
    """The change `optimizer` (one of STEP_RULES, at torch's defaults but for the Schedule `options` given:
    momentum, nesterov, weight_decay) makes after each backward() to flat parameters at `values` with gradients
    `grads`: what a student's recorded run is held against to infer how they trained (grader.protocol)."""
    if optimizer == "lbfgs":
        lbfgs = _LBFGS(lr)
        with np.errstate(all="ignore"):
            return [lbfgs.update(np.asarray(g, dtype=np.float64)) for g in grads]
    stepper = _Optimizer(Schedule(lr=lr, epochs=1, optimizer=optimizer, **options), lr, -1)
    return [stepper.step({"p": v}, {"p": g})["p"] - v for v, g in zip(values, grads)]


def gradients_at(problem: Problem, params: dict[str, np.ndarray | float | list], x, y) -> dict[str, np.ndarray]:
    """Each parameter's gradient from one backward of loss(forward(x), y) at `params`."""
    model = _model(problem)
    return _loss_and_grads(model, _param_values(model, params), as_array(x), as_array(y), "these inputs")[1]


def loss_at(problem: Problem, params: dict[str, np.ndarray | float | list], x, y) -> float:
    """The loss of one forward at `params`, for the samples x and y."""
    model = _model(problem)
    return _loss_and_grads(model, _param_values(model, params), as_array(x), as_array(y), "these inputs")[0]


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
    if schedule.batch != "full":  # a mini-batch size of at least the data's size is full batch too: harmless
        variants.append(Variant("mistake.update_per_epoch", update="per-epoch"))
    variants += [Variant("mistake.gradient_ascent", sign=+1),
                 Variant("mistake.zero_before_update", update="none")]
    variants += [Variant("mistake.learning_rate", lr=schedule.lr * factor) for factor in LR_FACTORS]
    return variants
