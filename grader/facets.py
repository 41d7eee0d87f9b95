"""The training facets a spec asks for, each compared once with how the student trained: one message per facet
that deviates, with its numbers.

Facets: data (the samples), optimizer, lr, momentum, batch (samples per step), epochs. A facet listed in the
spec's `training.free` is the student's choice and never a deviation. A facet whose value could not be read
from the run (an update rule not recognised, a schedule not recorded) is unknown: neither right nor wrong.
"""
from __future__ import annotations

import math

import numpy as np

from grader.checks.compare import show
from grader.messages import Message
from grader.protocol import RunProtocol
from grader.outcome import Outcome
from grader.spec import AssignmentSpec

FACETS = ("data", "optimizer", "lr", "momentum", "batch", "epochs")
OPTIMIZER_NAMES = {"sgd": "SGD", "adam": "Adam", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adamax": "Adamax",
                   "rprop": "Rprop", "lbfgs": "LBFGS", "adamw": "AdamW"}  # as torch.optim spells them
# optimizers whose step() evaluates a closure several times: the backward() calls do not count the epochs
SEVERAL_CALLS_PER_STEP = {"lbfgs"}
ASGD_LAMBD = 1e-4  # torch.optim.ASGD's default decay: its steps are SGD's with this weight_decay
CLIP_SETTINGS = {"clip_grad_norm_": "max_norm", "clip_grad_value_": "clip_value"}  # each one's limit, as torch names it
LR_RTOL = 0.02  # the inferred lr carries float32 rounding; 0.0101 for 0.01 is the same choice


def graded_facets(listed: list[str] | None, spec: AssignmentSpec) -> list[str]:
    """The facets a training check grades: its own list, else all the spec does not leave free."""
    if listed:
        return list(listed)
    return [f for f in FACETS if f not in spec.training.free and (f != "momentum" or spec.training.optimizer == "sgd")]


def spec_samples_per_step(spec: AssignmentSpec) -> int:
    batch, samples = spec.training.batch, len(spec.data.x)
    return 1 if batch == "per-sample" else samples if batch == "full" else min(int(batch), samples)


def clipped(run: RunProtocol) -> bool:
    """Whether the run's gradient clipping changed a gradient (a limit never reached leaves the steps as they were)."""
    return run.clip is not None and run.clip.clipped > 0


def _run_steps(outcome: Outcome, run: RunProtocol) -> list:
    """The run's recorded steps (those the trace holds of its backward() calls)."""
    return [s for s in outcome.trace[run.first_call:run.first_call + run.calls] if s.run == run.run]


def own_data(outcome: Outcome, run: RunProtocol) -> dict | None:
    """The largest sample-shaped variable of the run's recorded steps whose rows are not the assignment's (the
    harness records one beside a step's batches only where the step's own data is larger than each of them)."""
    seen = [s.unmatched for s in _run_steps(outcome, run) if s.unmatched is not None]
    if not seen:
        return None
    largest = max(seen, key=lambda u: u.size)
    return {"samples": largest.size, "matched": largest.matched}


def _own_targets_message(spec: AssignmentSpec, targets: dict[int, float]) -> Message:
    """The samples whose targets the student changed, with theirs and the assignment's."""
    rows = [row for row in sorted(targets) if not math.isclose(targets[row], _number(spec.data.y[row]), rel_tol=1e-6)]
    return Message("mistake.own_targets", {"x": _listed(_number(spec.data.x[r]) for r in rows),
                                           "yours": _listed(targets[r] for r in rows),
                                           "expected": _listed(_number(spec.data.y[r]) for r in rows)})


def _listed(values) -> str:
    """Samples' values for a message: a number as written, a row of several as its list ("1, 2" or "[1, 2], …")."""
    def one(value) -> str:
        flat = np.ravel(value)
        return f"{show(flat.item()):g}" if flat.size == 1 else "[" + ", ".join(f"{show(e):g}" for e in flat) + "]"
    return ", ".join(one(v) for v in values)


def _no_gradient(outcome: Outcome, run: RunProtocol) -> bool:
    """Whether every recorded step of the run has a zero (or no) gradient: parameters that never move for want of a
    gradient, not because it was zeroed before the update (which leaves the recorded .grad as backward() made it)."""
    steps = [s for s in _run_steps(outcome, run) if s.grads]
    return bool(steps) and all(g is None or g.array() is None or not np.any(g.array())
                               for s in steps for g in s.grads.values())


def _own_data_message(data: dict, samples: int, changed: tuple[str, str] | None) -> Message:
    """Data of the student's own: as many samples as the assignment's, some of them others (with their inputs where
    the harness recorded them); or another number."""
    if data["samples"] == samples and changed is not None:
        return Message("mistake.own_inputs_changed", {"yours": changed[0], "expected": changed[1]})
    if data["samples"] == samples:
        return Message("mistake.own_data_changed", {"samples": samples, "differ": samples - data["matched"]})
    return Message("mistake.own_data", {**data, "expected": samples})


def _changed_inputs(spec: AssignmentSpec, outcome: Outcome, run: RunProtocol) -> tuple[str, str] | None:
    """The student's x where they differ from the assignment's, and the assignment's there ("4", "3"), from the
    inputs the harness recorded at the run's first step on data of its own as large as the assignment's; None when
    no recorded input has the assignment's x shape or none differs."""
    x = np.asarray(spec.data.x, dtype=np.float64)
    first = next((s for s in _run_steps(outcome, run) if s.own), None)
    if first is None:
        return None
    y = np.asarray(spec.data.y, dtype=np.float64)

    def is_y(values) -> bool:  # the assignment's own targets, when they are not its inputs too
        return (values.size == y.size and not np.allclose(y.ravel(), x.ravel())
                and np.allclose(values.ravel(), y.ravel()))

    arrays = [t.array() for t in first.own]
    targets = any(v is not None and is_y(v) for v in arrays)
    for values in arrays:
        if values is None or values.size != x.size or is_y(values):
            continue
        rows = values.reshape(x.shape)
        differ = [i for i in range(len(x)) if not np.allclose(rows[i], x[i], rtol=1e-6, atol=1e-9)]
        # some rows the assignment's, or beside the assignment's own y: this is the x
        if differ and (len(differ) < len(x) or targets):
            return _listed(rows[i] for i in differ[:3]), _listed(x[i] for i in differ[:3])
    return None


def _subset_message(rows: list[int], samples: int) -> Message:
    """Training on part of the data: how many rows, and which where they are one stretch of the file (1-based)."""
    numbers = {"samples": len(rows), "expected": samples}
    ordered = sorted(rows)
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        return Message("mistake.data_subset", {**numbers, "first": ordered[0] + 1, "last": ordered[-1] + 1})
    return Message("mistake.data_subset_scattered", numbers)


def _number(value) -> float:
    return float(np.ravel(np.asarray(value, dtype=np.float64))[0])


def compare(spec: AssignmentSpec, outcome: Outcome, run: RunProtocol) -> tuple[dict[str, bool | None], list[Message]]:
    """Each facet: True (as the spec asks), False (deviates: one message says how) or None (unknown)."""
    t, free = spec.training, set(spec.training.free)
    state: dict[str, bool | None] = {}
    messages: list[Message] = []

    def judge(facet: str, follows: bool | None, message: Message | None = None) -> None:
        if facet in free:
            return
        state[facet] = follows
        if follows is False and message is not None:
            messages.append(message)

    data = own_data(outcome, run)
    samples = len(spec.data.x)
    if data is None and run.targets:  # the assignment's inputs with targets of the student's own
        judge("data", False, _own_targets_message(spec, run.targets))
    elif data is None and run.subset is not None:
        judge("data", False, _subset_message(run.subset, samples))
    else:
        judge("data", None if data is None and run.samples_per_step is None else data is None,
              _own_data_message(data, samples, _changed_inputs(spec, outcome, run)) if data is not None else None)
    rule = run.rule
    if not rule.moves and _no_gradient(outcome, run):
        judge("lr", None)  # nothing to update with (a final ReLU that outputs 0): no update rule shows
    elif not rule.moves:
        judge("lr", False, Message("mistake.zero_before_update"))
    elif run.declared is not None and len(set(run.declared.group_lrs)) > 1:  # no one lr: each group's named
        judge("lr", False, Message("mistake.group_learning_rates", {
            "lrs": ", ".join(f"{show(lr):g}" for lr in run.declared.group_lrs), "expected": t.lr}))
    elif rule.optimizer is None:  # no update rule of ours fits: the optimizer the script declared, if another
        declared = run.declared
        other = declared is not None and declared.name.lower() != t.optimizer
        judge("optimizer", False if other else None,
              Message("mistake.optimizer", {"optimizer": declared.name, "lr": declared.settings.get("lr"),
                                            "expected_optimizer": OPTIMIZER_NAMES[t.optimizer], "expected_lr": t.lr})
              if other else None)
        judge("lr", None)
    elif rule.in_turn is not None:  # optimizers in turn: named in their order, no one lr read
        judge("optimizer", False, Message("mistake.optimizer_changes", {
            "optimizers": ", ".join(OPTIMIZER_NAMES[o] for o in rule.in_turn),
            "expected_optimizer": OPTIMIZER_NAMES[t.optimizer], "expected_lr": t.lr}))
        judge("lr", None)
        judge("momentum", None)
    else:
        same_optimizer = rule.optimizer == t.optimizer
        judge("optimizer", same_optimizer and _same_weight_decay(rule, t), _optimizer_message(rule, t, same_optimizer))
        if rule.lr is not None and rule.lr < 0:
            judge("lr", False, Message("mistake.gradient_ascent"))
        elif rule.lr_steps and same_optimizer:  # a changing lr is named with where it starts and where it ends
            judge("lr", False, Message("mistake.lr_schedule",
                                       {"first": rule.lr, "last": rule.last_lr, "expected": t.lr}))
        elif run.steps_per_call:  # an lr of k times the script's, read from updates made k times
            judge("lr", False, Message("mistake.step_several_times", {
                "times": run.steps_per_call, "steps": run.optimizer_steps, "calls": run.calls}))
        else:  # with another optimizer the lr is named in the optimizer's message
            judge("lr", math.isclose(rule.lr, t.lr, rel_tol=LR_RTOL),
                  Message("mistake.learning_rate", {"lr": rule.lr, "expected": t.lr}) if same_optimizer else None)
        if rule.optimizer == "sgd" and t.optimizer == "sgd":
            judge("momentum", abs(rule.momentum - t.momentum) <= 0.01 and rule.nesterov == t.nesterov,
                  _momentum_message(rule, t))
        elif t.optimizer == "sgd":  # another optimizer has no SGD momentum: it is the optimizer's deviation
            judge("momentum", t.momentum == 0)
    if clipped(run):  # an update by a clipped gradient is no rule of any optimizer's: named apart from it
        judge("optimizer", False, Message("mistake.clipped_gradients", {
            "function": run.clip.function, "limit": run.clip.limit, "setting": CLIP_SETTINGS[run.clip.function],
            "clipped": run.clip.clipped, "calls": run.clip.calls, "expected_optimizer": OPTIMIZER_NAMES[t.optimizer]}))
    if run.samples_per_step is not None and data is None:
        expected = spec_samples_per_step(spec)
        # a step on all the data it trains on: the assignment's, or the part of it a run keeps (run.subset)
        whole = run.subset is not None or run.samples_per_step == samples
        if t.batch == "per-sample" and whole and samples > 1:
            message = Message("mistake.full_batch", {"reduce": run.reduce or "sum"})
        elif t.batch == "full" and run.samples_per_step == 1 < samples:
            message = Message("mistake.per_sample_updates", {"expected": samples})
        else:
            message = Message("mistake.batch_size", {"got": run.samples_per_step, "samples": samples,
                                                    "expected": expected})
        judge("batch", t.batch == "full" if run.subset is not None else run.samples_per_step == expected, message)
    epochs = run.epochs if data is None else _epochs_on_own_data(run, data["samples"])
    if rule.optimizer in SEVERAL_CALLS_PER_STEP or run.calls_per_step or (
            run.declared is not None and run.declared.name.lower() in SEVERAL_CALLS_PER_STEP):
        epochs = None if data is not None else _epochs_of_steps(run, samples)
    if epochs is not None and outcome.status == "ok":
        code = "mistake.too_few_epochs" if epochs < t.epochs else "mistake.too_many_epochs"
        code = "mistake.one_epoch" if epochs == 1 else code
        judge("epochs", epochs == t.epochs, Message(code, {"epochs": epochs, "expected": t.epochs}))
    return state, messages


def _epochs_of_steps(run: RunProtocol, samples: int) -> int | None:
    """An LBFGS run's epochs (or a run's of several backward() calls per step): its step() calls, however many
    closure evaluations each made, over the batches an epoch has (one on the whole batch; three of a sample each
    for three samples); None where they do not divide. Each step() evaluates its closure, a backward(), once at
    least: more step() calls than that are forged."""
    if not 0 < run.optimizer_steps <= run.calls or not run.samples_per_step:
        return None
    batches = -(-samples // run.samples_per_step)
    return run.optimizer_steps // batches if run.optimizer_steps % batches == 0 else None


def _same_weight_decay(rule, t) -> bool:
    """The weight decay is part of the optimizer facet; it is read from the run for SGD (plain or with momentum)
    and AdamW only (with the others a decay is not told apart, and nothing is said)."""
    if not (rule.optimizer == "adamw" or (rule.optimizer == "sgd" and not rule.nesterov)):
        return True
    return math.isclose(rule.weight_decay, t.weight_decay, rel_tol=LR_RTOL, abs_tol=1e-6)


def _optimizer_message(rule, t, same_optimizer: bool) -> Message:
    """Another optimizer named with its lr (and its weight decay, if any); the same one with another decay."""
    names = {"optimizer": OPTIMIZER_NAMES[rule.optimizer]}
    if same_optimizer and rule.optimizer == "sgd" and not rule.momentum and math.isclose(rule.weight_decay, ASGD_LAMBD,
                                                                                          rel_tol=0.05):
        return Message("mistake.weight_decay_asgd", {"weight_decay": rule.weight_decay, "expected": t.weight_decay,
                                                     "expected_optimizer": OPTIMIZER_NAMES[t.optimizer]})
    if same_optimizer:
        return Message("mistake.weight_decay", {**names, "weight_decay": rule.weight_decay, "expected": t.weight_decay})
    expected = {"lr": rule.lr, "expected_optimizer": OPTIMIZER_NAMES[t.optimizer], "expected_lr": t.lr}
    if rule.weight_decay:
        return Message("mistake.optimizer_decay", {**names, **expected, "weight_decay": rule.weight_decay})
    return Message("mistake.optimizer", {**names, **expected})


def _momentum_message(rule, t) -> Message:
    """Momentum named once: against plain SGD the assignment's lr is the number it asks for; Nesterov's named."""
    numbers = {"momentum": rule.momentum, "expected": t.momentum}
    if rule.nesterov and not t.nesterov:
        if t.momentum == 0:
            return Message("mistake.nesterov_plain_sgd", {"momentum": rule.momentum, "expected_lr": t.lr})
        return Message("mistake.nesterov", numbers)
    if t.nesterov and not rule.nesterov:
        return Message("mistake.nesterov_expected", numbers)
    if t.momentum == 0:
        return Message("mistake.momentum_plain_sgd", {"momentum": rule.momentum, "expected_lr": t.lr})
    return Message("mistake.momentum", numbers)


def _epochs_on_own_data(run: RunProtocol, samples: int) -> int | float | None:
    """Epochs over the student's own samples: one sample per step (as far as the steps on the assignment's samples
    show), or one step per epoch when no step's samples are known (the whole own data set each time)."""
    per_epoch = samples if run.single else 1 if run.samples_per_step is None else None
    if not per_epoch:
        return None
    whole, rest = divmod(run.calls, per_epoch)
    return whole if rest == 0 else round(run.calls / per_epoch, 2)
