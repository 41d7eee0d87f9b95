"""What a spec's schema cannot say: the model tried on the data and the checks' inputs, and the reference trained.

A spec whose model cannot be computed on its own data (shapes that do not fit, a loss that is not a single
number, labels that are not classes) is refused when it is parsed, naming the field, rather than failing
later on every submission. Training the reference (bounded in size, finite all the way) takes a while, so it
runs only when a spec enters the grader (loaded from its folder, uploaded, checked), never on every parse:
a stored spec passed it when it came in.
"""
from __future__ import annotations

import math

import numpy as np

from grader.expected import first_batch, initial_params, problem_of
from grader.reference import ExpressionError, gradients_at, predict, train
from grader.spec.schema import AssignmentSpec

AUTOGRAD_CHECKS = ("gradients", "trace")
# The reference trains about 10,000 backward() calls a second, once per spec and again per mistake
# variant, and keeps every step's parameters and gradients: both bounded, or grading hangs or runs out of memory.
MAX_REFERENCE_STEPS = 100_000
MAX_REFERENCE_VALUES = 20_000_000  # steps × parameter elements


def model_problems(spec: AssignmentSpec) -> list[tuple[tuple, str]]:
    """(field path, problem) for each thing the model cannot do as the spec asks (without training it)."""
    problems: list[tuple[tuple, str]] = []
    for i, check in enumerate(spec.checks):
        if check.kind in AUTOGRAD_CHECKS and not spec.training.autograd:
            problems.append((("checks", i, "kind"), f"a {check.kind} check reads autograd's gradients, "
                                                    f"but training.autograd is false"))
    try:
        np.asarray(spec.data.x, dtype=np.float64), np.asarray(spec.data.y, dtype=np.float64)
    except ValueError:
        return problems + [(("data",), "every sample of x (and of y) needs the same shape")]
    for field in ("x", "y"):  # a whole number beyond 1.8e308 passes as a number but is no float
        if not np.all(np.isfinite(np.asarray(getattr(spec.data, field), dtype=np.float64))):
            problems.append((("data", field), "holds a number too large for a float (beyond about 1.8e308)"))
    if problems:
        return problems
    problem, _ = problem_of(spec)
    params = initial_params(spec)
    x, y = first_batch(spec)
    for field, run in (("forward", lambda: predict(problem, params, x)),
                       ("loss", lambda: gradients_at(problem, params, x, y))):
        try:
            run()
        except (ExpressionError, ValueError) as exc:
            return problems + [(("model", field), f"cannot be computed on the first batch of the data "
                                                  f"(x of shape {list(x.shape)}): {exc}")]
    for i, check in enumerate(spec.checks):
        if check.kind == "predictions":
            for j, item in enumerate(check.prediction_inputs):
                try:
                    predict(problem, params, np.asarray(item.x, dtype=np.float64))
                except (ExpressionError, ValueError) as exc:
                    problems.append((("checks", i, "inputs", j), f"forward cannot take this input: {exc}"))
        if check.kind == "accuracy":
            data = check.data or spec.data
            try:
                out = predict(problem, params, np.asarray(data.x, dtype=np.float64))
            except (ExpressionError, ValueError) as exc:
                problems.append((("checks", i, "data" if check.data else "kind"),
                                 f"forward cannot take all samples at once, as accuracy needs: {exc}"))
                continue
            n = len(data.x)
            if out.ndim == 0 or out.shape[0] != n or out.ndim > 2:
                problems.append((("checks", i, "kind"), f"accuracy needs one output (or one row of class scores) "
                                                        f"per sample; forward gives shape {list(out.shape)} for {n}"))
    return problems


def reference_problems(spec: AssignmentSpec) -> list[tuple[tuple, str]]:
    """(field path, problem) of the reference run itself: small enough to compute, and finite all the way (a
    reference of nan grades no one). Trains the reference: for a spec without model_problems only."""
    problem, schedule = problem_of(spec)
    params = initial_params(spec)
    t = spec.training
    n = len(spec.data.x)
    per_epoch = {"per-sample": n, "full": 1}.get(t.batch) or math.ceil(n / t.batch)
    steps = t.epochs * per_epoch
    if steps > MAX_REFERENCE_STEPS:
        return [(("training", "epochs"), f"{t.epochs} epochs of {per_epoch} backward() calls make {steps} steps; "
                                         f"the reference trains at most {MAX_REFERENCE_STEPS} (fewer epochs or larger batches)")]
    elements = sum(int(np.prod(value.shape)) for value in params.values())
    if steps * elements > MAX_REFERENCE_VALUES:
        return [(("training", "epochs"), f"{steps} steps of {elements} parameter values are more than the reference "
                                         f"records ({MAX_REFERENCE_VALUES}): fewer epochs or larger batches")]
    with np.errstate(all="ignore"):
        run = train(problem, schedule)
        for step in run.steps:
            values = [step.loss, *step.params.values(), *step.grads.values()]
            if all(np.all(np.isfinite(v)) for v in values):
                continue
            if step.index == 0:
                x, _ = first_batch(spec)
                field = "loss" if np.all(np.isfinite(predict(problem, step.params, x))) else "forward"
                return [(("model", field), f"is not a finite number on the first batch of the data (the first "
                                           f"loss is {step.loss:g}): the reference cannot train from there")]
            return [(("training", "lr"), f"the reference training diverges: at epoch {step.epoch + 1}, backward() "
                                         f"call {step.index + 1}, the loss is {step.loss:g} (or a gradient is not "
                                         f"finite); lower training.lr or check the model")]
        if not all(np.all(np.isfinite(v)) for v in run.final_params.values()):
            return [(("training", "lr"), "the reference training diverges: its final parameters are not finite; "
                                         "lower training.lr or check the model")]
        problems = []
        for i, check in enumerate(spec.checks):
            for j, item in enumerate(check.prediction_inputs if check.kind == "predictions" else []):
                out = predict(problem, run.final_params, np.asarray(item.x, dtype=np.float64))
                if not np.all(np.isfinite(out)):
                    problems.append((("checks", i, "inputs", j), "the reference's prediction for this input is not "
                                                                 "a finite number"))
    return problems
