"""How the student trained, inferred from their own recorded run: per training run, the samples per step, steps
per epoch, epochs (from the exact backward() count, never from the recorded steps), the sample order, and the
update rule fitted to consecutive steps (SGD with its lr, with momentum, Nesterov momentum or weight decay, Adam,
AdamW, Adagrad, RMSprop, Adamax, Rprop, LBFGS, gradient ascent, no update).

A rule is accepted only when it predicts every update of the first FIT_STEPS steps it is fitted on: a run
updated once per epoch, or by an optimizer not listed, has no rule (None), and nothing is said about it.
Plain SGD is then read over every recorded step of the run: a learning rate that changes (a scheduler such
as StepLR, `lr *= 0.99` by hand) is kept step by step, where each update still lies along the gradient; a
run no constant rule fits is SGD with a schedule only when its learning rate only ever falls.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from grader.outcome import DeclaredOptimizer, GradientClip, Outcome
from grader.own_run import StepVerdict, param_arrays
from grader.reference import updates

FIT_STEPS = 30        # consecutive updates a rule must predict
MAX_IN_TURN_STEPS = 3000  # recorded steps read for optimizers taken in turn
RULE_RTOL = 0.02      # an update predicted within 2 % (float32 rounding of small updates)
# A step's own lr (-update·grad / |grad|²) is read where the update is this large beside the parameters (float32
# rounding then stays within about 1 %; a step too small to read keeps the lr of the step before)
READABLE_STEP = 1e-5
GEOMETRIC_RTOL = 1e-3  # an lr read as decaying by one factor per step: every step's factor this close to it
SCHEDULE_WINDOW = 5   # steps whose median lr is compared: a schedule moves it by more than SCHEDULE_CHANGE
SCHEDULE_CHANGE = 0.1
# float32 rounds each recorded value by up to 2^-24 of itself, so an update (a difference of two values) carries
# about that much noise: a decay is read only from a residual well above it (a converged run's updates are noise)
FLOAT32_NOISE = 16 * 2.0 ** -24


@dataclass
class UpdateRule:
    optimizer: str | None = None   # "sgd", "adam", ... (grader.reference.STEP_RULES) | None (not recognised)
    lr: float | None = None        # negative for gradient ascent
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0      # SGD's (L2, added to the gradient) or AdamW's (decoupled)
    moves: bool = True             # False: the parameters never change
    lr_steps: list[float] | None = None  # plain SGD whose lr changes: the lr of each update of the run (lr: the first)
    last_lr: float | None = None   # and the lr it ends at (the median of its last readable steps)
    in_turn: list[str] | None = None  # one model trained by several optimizers in turn: each, as it began (this first)

    @property
    def known(self) -> bool:
        return self.optimizer is not None or not self.moves


@dataclass
class RunProtocol:
    run: int                       # 0-based
    calls: int                     # backward() calls, exact
    first_call: int                # index of its first backward() among all calls
    recorded: int = 0              # of its calls, how many were recorded
    samples_per_step: int | None = None
    single: bool = False           # one sample per step, without a batch axis
    steps_per_epoch: int | None = None
    shuffled: bool = False
    reduce: str | None = None
    rule: UpdateRule = field(default_factory=UpdateRule)
    initial: dict[str, np.ndarray] | None = None  # the parameters at its first backward(), when recorded
    order: list[list[int]] | None = None  # the samples of every step, when every step was recorded and verified
    optimizer_steps: int = 0       # torch.optim step() calls in the run (an LBFGS step makes several backward())
    declared: DeclaredOptimizer | None = None  # the optimizer that made them, as the script declared it
    clip: GradientClip | None = None  # the gradient clipping of the run, as the harness counted it
    # the parameters at its last backward() and the one before, when the trace recorded the run to its end
    last: tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | None = None
    targets: dict[int, float] = field(default_factory=dict)  # sample -> the student's own y for it (own_run.own_targets)
    # every step on the same part of the assignment's samples, whole (a train split, a row skipped): those rows
    subset: list[int] | None = None

    def _ratio(self, more: int, fewer: int) -> int | None:
        """`more` as a whole multiple (2 or more) of `fewer`, for a run whose optimizer steps were counted."""
        several = self.declared is not None and self.declared.name.lower() == "lbfgs"  # a closure per evaluation
        if several or not self.optimizer_steps or fewer <= 0 or more < 2 * fewer or more % fewer:
            return None
        return more // fewer

    @property
    def steps_per_call(self) -> int | None:
        """optimizer.step() called k times after each backward(): every gradient applied k times."""
        return self._ratio(self.optimizer_steps, self.calls)

    @property
    def calls_per_step(self) -> int | None:
        """backward() called k times before each optimizer.step(): their gradients add up in .grad."""
        return self._ratio(self.calls, self.optimizer_steps)

    @property
    def epochs(self) -> float | None:
        if not self.steps_per_epoch:
            return None
        whole, rest = divmod(self.calls, self.steps_per_epoch)
        return whole if rest == 0 else round(self.calls / self.steps_per_epoch, 2)


def run_protocols(outcome: Outcome, verdicts: list[StepVerdict], params: list[str], samples: int) -> list[RunProtocol]:
    """One protocol per training run, in the order they ran."""
    calls = list(outcome.runs) or ([outcome.backward_calls] if outcome.backward_calls else [])
    protocols, start = [], 0
    for run, count in enumerate(calls):
        protocol = RunProtocol(run, count, start)
        if run < len(outcome.optimizer_steps):
            protocol.optimizer_steps = outcome.optimizer_steps[run]
            protocol.declared = outcome.optimizers[run] if run < len(outcome.optimizers) else None
        protocol.clip = outcome.clips[run] if run < len(outcome.clips) else None
        steps = [v for v in verdicts if v.run == run and start <= v.index < start + count]
        protocol.recorded = len([s for s in outcome.trace[start:start + count] if s.run == run])
        _schedule(protocol, steps, samples)
        first = outcome.trace[start] if start < len(outcome.trace) and outcome.trace[start].run == run else None
        if first is not None:
            initial = param_arrays(first.values, params)
            protocol.initial = None if any(v is None for v in initial.values()) else initial
        protocol.rule = fit_rule(outcome, start, min(start + count, len(outcome.trace)), params, count)
        protocol.last = _last_two(outcome, start, count, run, params)
        protocols.append(protocol)
        start += count
    return protocols


def _last_two(outcome: Outcome, start: int, count: int, run: int, params: list[str]):
    """The parameters at a run's last two backward() calls, when both were recorded in full."""
    if count < 2 or start + count > len(outcome.trace):
        return None
    pair = []
    for step in outcome.trace[start + count - 2:start + count]:
        values = param_arrays(step.values, params)
        if step.run != run or any(v is None or not np.all(np.isfinite(v)) for v in values.values()):
            return None
        pair.append(values)
    return pair[1], pair[0]


def _schedule(protocol: RunProtocol, steps: list[StepVerdict], samples: int) -> None:
    """Samples per step, steps per epoch, order and reduction from the verified steps' batches."""
    known = [s for s in steps if s.rows is not None and s.status != "unverifiable"]
    if not known or known[0].index != protocol.first_call:
        return
    first = known[0]
    protocol.samples_per_step, protocol.single, protocol.reduce = len(first.rows), first.single, first.reduce
    if _one_subset(known, protocol.first_call, samples):
        protocol.subset, protocol.steps_per_epoch = list(first.rows), 1  # an epoch of their data is one step
        return
    total = 0
    for k, step in enumerate(known):
        if step.index != protocol.first_call + k:
            return
        total += len(step.rows)
        if total == samples:
            protocol.steps_per_epoch = k + 1
            break
        if total > samples:
            return
    if protocol.steps_per_epoch is None:
        return
    per_epoch = protocol.steps_per_epoch
    in_order = list(range(samples))
    epochs = [sum((s.rows for s in known[e:e + per_epoch]), []) for e in range(0, len(known) - per_epoch + 1, per_epoch)]
    protocol.shuffled = any(rows != in_order for rows in epochs)
    if len(known) == protocol.calls and all(s.status != "wrong" for s in known):
        protocol.order = [s.rows for s in known]  # a wrong step's samples are only its first candidate's


def _one_subset(known: list[StepVerdict], first_call: int, samples: int) -> bool:
    """Whether every verified step, from the run's first, used the same rows, fewer than the data set's and two at
    least: the student trains on part of the assignment's data, whole at every step (the first 48 of 60 rows as a
    train split; all but the first, read past as a header)."""
    rows = known[0].rows
    if known[0].single or not 2 <= len(rows) < samples or len(set(rows)) != len(rows) or len(known) < 2:
        return False
    return all(s.rows == rows and s.index == first_call + k for k, s in enumerate(known))


def _flat(step, names: list[str], part: str) -> np.ndarray | None:
    arrays = param_arrays(getattr(step, part), names)
    if any(a is None for a in arrays.values()):
        return None
    return np.concatenate([arrays[n].ravel() for n in names])


def _recorded(outcome: Outcome, start: int, stop: int, params: list[str]) -> tuple[list, list]:
    """The flat values and gradients of the recorded steps start..stop-1, up to the first that is not finite."""
    values, grads = [], []
    for step in outcome.trace[start:stop]:
        v, g = _flat(step, params, "values"), _flat(step, params, "grads")
        if v is None or g is None or v.size != g.size or not (np.all(np.isfinite(v)) and np.all(np.isfinite(g))):
            break
        values.append(v)
        grads.append(g)
    return values, grads


def fit_rule(outcome: Outcome, start: int, stop: int, params: list[str], calls: int | None = None) -> UpdateRule:
    """The update rule between the recorded steps start..stop-1 of one run (see the module's rule); `calls`: the
    run's backward() calls, for a changing lr's steps."""
    values, grads = _recorded(outcome, start, min(stop, start + FIT_STEPS + 1), params)
    if len(values) < 2:
        return UpdateRule(moves=True)
    deltas = [b - a for a, b in zip(values, values[1:])]
    grads = grads[:len(deltas)]
    if all(not np.any(d) for d in deltas):
        return UpdateRule(moves=False)
    rule = next((r for r in (fit(values, grads, deltas) for fit in FITS) if r is not None), None)
    if rule is None or (rule.optimizer == "sgd" and not rule.momentum and not rule.weight_decay):
        scheduled = _lr_schedule(*_recorded(outcome, start, stop, params), rule, calls or stop - start)
        if scheduled is not None:
            return scheduled
    if rule is None:
        return UpdateRule()
    in_turn = _optimizers_in_turn(outcome, start, stop, params, rule)
    if in_turn is not None:
        return dataclasses.replace(rule, in_turn=in_turn)
    # after the schedule: a schedule's updates lie along their gradients, a decay's do not
    return _late_decay(rule, outcome, start, stop, params)


def _optimizers_in_turn(outcome: Outcome, start: int, stop: int, params: list[str], rule: UpdateRule) -> list[str] | None:
    """The optimizers a run follows one after another, when its updates stop following `rule` (fitted on its first
    steps) and follow another rule fitted afresh from there (a new optimizer starts without state): a script that
    trains one model with each optimizer in turn. None when `rule` holds wherever the run moves, or when what
    follows fits no rule (nothing is said then)."""
    if rule.optimizer == "lbfgs" or rule.lr is None or rule.lr <= 0:
        return None
    values, grads = _recorded(outcome, start, min(stop, start + MAX_IN_TURN_STEPS), params)
    found, at = [rule], 0
    while True:
        broken = _first_unpredicted(found[-1], values[at:], grads[at:])
        if broken is None:
            break
        at += broken
        window = values[at:at + FIT_STEPS + 1], grads[at:at + FIT_STEPS + 1]
        deltas = [b - a for a, b in zip(window[0], window[0][1:])]
        if len(deltas) < 3:
            return None
        nxt = next((r for r in (fit(window[0], window[1][:len(deltas)], deltas) for fit in FITS) if r is not None), None)
        if nxt is None or nxt.optimizer == "lbfgs" or len(found) > 2 * len(FITS):
            return None
        found.append(nxt)
    return [r.optimizer for r in found] if len(found) > 1 else None


def _first_unpredicted(rule: UpdateRule, values: list, grads: list) -> int | None:
    """The first step whose update `rule` (its optimizer's state built from these steps on) does not predict."""
    deltas = [b - a for a, b in zip(values, values[1:])]
    options = {"momentum": rule.momentum, "nesterov": rule.nesterov, "weight_decay": rule.weight_decay}
    predicted = updates(rule.optimizer, rule.lr, values[:len(deltas)], grads[:len(deltas)], **options)
    return next((t for t, (p, d, v) in enumerate(zip(predicted, deltas, values)) if not _close(p, d, v)), None)


def _lr_schedule(values: list, grads: list, constant: UpdateRule | None, calls: int) -> UpdateRule | None:
    """Plain SGD whose learning rate changes over the run (see the module's rule), else None: each readable
    update must lie along its gradient, and the median lr of some SCHEDULE_WINDOW steps must differ from the
    first ones' by more than SCHEDULE_CHANGE."""
    lrs: list[float | None] = []
    readable: list[float] = []
    for v, g, b in zip(values, grads, values[1:]):
        d, norm = b - v, float(g @ g)
        size = float(np.linalg.norm(d))
        if norm == 0 or size <= READABLE_STEP * float(np.linalg.norm(v)) + 1e-12:
            lrs.append(None)
            continue
        lr = -float(d @ g) / norm
        if lr <= 0 or not _close(-lr * g, d, v):
            return None  # an update off the gradient's line: not plain SGD
        readable.append(lr)
        lrs.append(lr)
    if len(readable) < 2 * SCHEDULE_WINDOW:
        return None
    windows = [float(np.median(readable[i:i + SCHEDULE_WINDOW]))
               for i in range(0, len(readable) - SCHEDULE_WINDOW + 1, SCHEDULE_WINDOW)]
    first = windows[0]
    if all(abs(w - first) <= SCHEDULE_CHANGE * first for w in windows):
        return None
    if constant is None and any(b > a * (1 + RULE_RTOL) for a, b in zip(readable, readable[1:])):
        return None  # no constant rule fits and the lr rises somewhere: another optimizer, not a schedule
    ratio = _geometric_ratio(lrs)
    steps, known = [], readable[0]
    for lr in lrs:  # a step too small to read keeps the lr before it, or decays on as the lr did (ExponentialLR)
        known = lr if lr is not None else known * ratio
        steps.append(known)
    while len(steps) < calls:
        known *= ratio
        steps.append(known)
    last = steps[-1] if ratio != 1.0 else float(np.median(readable[-SCHEDULE_WINDOW:]))
    return UpdateRule("sgd", _rounded(readable[0]), lr_steps=steps, last_lr=_rounded(last))


def _geometric_ratio(lrs: list[float | None]) -> float:
    """The factor the lr is multiplied by at every step, where nearly every pair of readable steps in a row shows
    the same one below 1 (ExponentialLR stepped once per update); else 1.0 (constant between changes: StepLR)."""
    ratios = [b / a for a, b in zip(lrs, lrs[1:]) if a is not None and b is not None]
    if len(ratios) < 2 * SCHEDULE_WINDOW:
        return 1.0
    ratio = float(np.median(ratios))
    alike = sum(abs(r - ratio) <= GEOMETRIC_RTOL * ratio for r in ratios)
    return ratio if ratio < 1.0 - GEOMETRIC_RTOL and alike >= 0.9 * len(ratios) else 1.0


def _late_decay(rule: UpdateRule, outcome: Outcome, start: int, stop: int, params: list[str]) -> UpdateRule:
    """SGD's weight decay read again from the run's last recorded updates: a small decay (1e-3) is lost in the
    rounding of the first ones, where the gradients are large, and shows only near the minimum, where they are
    small. There r_t = −d_t + mu·d_{t-1} − lr·g_t = lr·wd·v_t (the buffer's recursion, as in _momentum_decayed)."""
    if rule.optimizer != "sgd" or rule.nesterov or rule.weight_decay or not rule.lr or rule.lr <= 0:
        return rule
    first = max(start + FIT_STEPS + 1, stop - FIT_STEPS - 1)
    values, grads = _recorded(outcome, first, stop, params)
    if len(values) < 3 or len(values) != len(outcome.trace[first:stop]):  # every step of the window, finite
        return rule
    deltas = [b - a for a, b in zip(values, values[1:])]
    r = np.concatenate([-deltas[t] + rule.momentum * deltas[t - 1] - rule.lr * grads[t] for t in range(1, len(deltas))])
    v = np.concatenate(values[1:len(deltas)])
    if not v @ v > 0:
        return rule
    decay = float(r @ v) / (rule.lr * float(v @ v))
    left = float(np.linalg.norm(r - rule.lr * decay * v))
    scale = float(np.linalg.norm(np.concatenate(deltas)))
    residual = float(np.linalg.norm(r))
    if decay <= 0 or residual <= 4 * left + 1e-5 * scale or residual <= FLOAT32_NOISE * float(np.linalg.norm(v)):
        return rule
    return dataclasses.replace(rule, weight_decay=_rounded(decay))


def _close(predicted: np.ndarray, delta: np.ndarray, value: np.ndarray) -> bool:
    return bool(np.linalg.norm(predicted - delta) <= RULE_RTOL * np.linalg.norm(delta) + 1e-6 * np.linalg.norm(value) + 1e-12)


def _lr_of(delta: np.ndarray, direction: np.ndarray) -> float | None:
    """lr such that delta = -lr · direction (least squares)."""
    norm = float(direction @ direction)
    return None if norm == 0 else -float(delta @ direction) / norm


def _rounded(value: float) -> float:
    return float(f"{value:.3g}")


def _predicts(optimizer: str, lr: float, values, grads, deltas, **options) -> bool:
    """Whether the reference's rule at lr (and options) predicts every update."""
    predicted = updates(optimizer, lr, values[:len(deltas)], grads[:len(deltas)], **options)
    return all(_close(p, d, v) for p, d, v in zip(predicted, deltas, values))


def _weight_decay(units, values, deltas) -> tuple[float, float] | None:
    """(lr, weight decay) when delta = lr·unit − lr·decay·value predicts the updates clearly better than
    delta = lr·unit alone (a decay small beside the steps also fits within RULE_RTOL, at a slightly wrong lr:
    AdamW at its default decay read as Adam), else None. SGD's unit is −grad, AdamW's its Adam step at lr 1."""
    u, v, d = (np.concatenate(list(a)) for a in (units, values[:len(units)], deltas))
    if not u @ u > 0:
        return None
    plain = float(np.linalg.norm(d - (d @ u) / (u @ u) * u))
    (lr, decay), *_ = np.linalg.lstsq(np.stack([u, -v], axis=1), d, rcond=None)
    decayed = float(np.linalg.norm(d - lr * u + decay * v))
    if lr <= 0 or decay <= 0 or plain <= 4 * decayed + 1e-5 * float(np.linalg.norm(d)):
        return None
    return float(lr), float(decay / lr)


def _sgd(values, grads, deltas) -> UpdateRule | None:
    decayed = _weight_decay([-g for g in grads[:len(deltas)]], values, deltas)
    if decayed is not None and _predicts("sgd", decayed[0], values, grads, deltas, weight_decay=decayed[1]):
        return UpdateRule("sgd", _rounded(decayed[0]), weight_decay=_rounded(decayed[1]))
    lrs = [_lr_of(d, g) for d, g in zip(deltas, grads)]
    moving = [lr for lr, d, v in zip(lrs, deltas, values) if lr is not None and np.linalg.norm(d) > 1e-4 * np.linalg.norm(v)]
    if not moving:
        return None
    lr = float(np.median(moving))
    if all(_close(-lr * g, d, v) for g, d, v in zip(grads, deltas, values)):
        return UpdateRule("sgd", _rounded(lr))
    return None


def _nesterov(values, grads, deltas) -> UpdateRule | None:
    """SGD with Nesterov momentum: its buffer b_t = mu·b_{t-1} + g_t and update −lr·(g_t + mu·b_t) give, for t ≥ 1,
    −d_t = lr·g_t − mu·d_{t-1} + lr·mu·(g_t − g_{t-1}): linear in lr, mu and lr·mu, fitted by least squares."""
    if len(deltas) < 3:
        return None
    rows = [np.stack([grads[t], -deltas[t - 1], grads[t] - grads[t - 1]], axis=1) for t in range(1, len(deltas))]
    (lr, mu, _), *_ = np.linalg.lstsq(np.concatenate(rows), -np.concatenate(deltas[1:]), rcond=None)
    if not (lr > 0 and 0 < mu < 1) or not _predicts("sgd", lr, values, grads, deltas, momentum=mu, nesterov=True):
        return None
    return UpdateRule("sgd", _rounded(lr), momentum=_rounded(mu), nesterov=True)


def _momentum(values, grads, deltas) -> UpdateRule | None:
    lr = _lr_of(deltas[0], grads[0])
    if lr is None or lr == 0 or len(deltas) < 3:
        return None
    buffers = [-d / lr for d in deltas]
    mus = []
    for t in range(1, len(buffers)):
        previous = buffers[t - 1]
        if previous @ previous > 0:
            mus.append(float((buffers[t] - grads[t]) @ previous / (previous @ previous)))
    if not mus:
        return None
    mu = float(np.median(mus))
    if not 0 < mu < 1:
        return None
    buffer = grads[0]
    for t, (g, d, v) in enumerate(zip(grads, deltas, values)):
        buffer = g if t == 0 else mu * buffer + g
        if not _close(-lr * buffer, d, v):
            return None
    return UpdateRule("sgd", _rounded(lr), momentum=_rounded(mu))


def _momentum_decayed(values, grads, deltas) -> UpdateRule | None:
    """SGD with momentum and weight decay (added to the gradient before the buffer, as torch does): its buffer
    b_t = mu·b_{t-1} + g_t + wd·v_t and update −lr·b_t give, for t ≥ 1, −d_t = lr·g_t − mu·d_{t-1} + lr·wd·v_t:
    linear in lr, mu and lr·wd, fitted by least squares."""
    if len(deltas) < 3:
        return None
    rows = [np.stack([grads[t], -deltas[t - 1], values[t]], axis=1) for t in range(1, len(deltas))]
    (lr, mu, lr_decay), *_ = np.linalg.lstsq(np.concatenate(rows), -np.concatenate(deltas[1:]), rcond=None)
    if not (lr > 0 and 0 < mu < 1 and lr_decay > 0):
        return None
    decay = float(lr_decay / lr)
    if not _predicts("sgd", lr, values, grads, deltas, momentum=mu, weight_decay=decay):
        return None
    return UpdateRule("sgd", _rounded(lr), momentum=_rounded(mu), weight_decay=_rounded(decay))


def _adaptive(optimizer: str):
    """A fit of one of the reference's other update rules at torch's defaults: its updates are lr times those
    at lr 1 (Rprop's too, up to its step-size bounds), so lr comes from the first update and every update is
    then predicted at that lr."""

    def fit(values, grads, deltas) -> UpdateRule | None:
        unit = updates(optimizer, 1.0, values[:1], grads[:1])[0]
        lr = _lr_of(deltas[0], -unit)
        if lr is None or lr <= 0 or not math.isfinite(lr):
            return None
        n = len(deltas)
        if optimizer == "lbfgs":  # a closure evaluated again where nothing moved (it converged) ends the fit
            n = next((t for t, d in enumerate(deltas) if not np.any(d)), n)
            if n < 3:  # its first update is a scaled SGD step: only the quasi-Newton ones tell it apart
                return None
        if optimizer == "adam":  # AdamW is Adam with a decoupled decay: tried first, as a decay also fits Adam
            units = updates("adam", 1.0, values[:n], grads[:n])
            decayed = _weight_decay(units, values, deltas)
            if decayed is not None and _predicts("adamw", decayed[0], values, grads, deltas, weight_decay=decayed[1]):
                return UpdateRule("adamw", _rounded(decayed[0]), weight_decay=_rounded(decayed[1]))
        if _predicts(optimizer, lr, values[:n], grads[:n], deltas[:n]):
            return UpdateRule(optimizer, _rounded(lr))
        return None

    fit.__name__ = f"_{optimizer}"
    return fit


# tried in this order: the first that predicts every update is the rule (SGD's special cases first)
FITS = (_sgd, _momentum, _nesterov, _momentum_decayed, *(_adaptive(name) for name in ("adam", "adagrad", "rmsprop", "adamax", "rprop", "lbfgs")))
