"""What a spec's schema cannot say: the model run once on the data, the checks' inputs and the schedule.

A spec whose model cannot be computed on its own data (shapes that do not fit, a loss that is not a single
number, labels that are not classes) is refused when it is loaded, naming the field, rather than failing
later on every submission.
"""
from __future__ import annotations

import numpy as np

from grader.reference import ExpressionError, Problem, gradients_at, predict
from grader.spec_models import AssignmentSpec

AUTOGRAD_CHECKS = ("gradients", "trace")


def initial_params(spec: AssignmentSpec, student: dict | None = None) -> dict[str, np.ndarray]:
    """Each parameter's initial value: the spec's, or for `init: student` the student's (zeros when not given)."""
    out = {}
    for name in spec.model.params:
        value = spec.model.initial(name)
        if value is None:
            given = (student or {}).get(name)
            value = given if given is not None else np.zeros(spec.model.shape(name))
        out[name] = np.asarray(value, dtype=np.float64)
    return out


def first_batch(spec: AssignmentSpec) -> tuple[np.ndarray, np.ndarray]:
    """The x and y of the schedule's first backward(): one sample, a mini-batch or all samples."""
    x, y = np.asarray(spec.data.x, dtype=np.float64), np.asarray(spec.data.y, dtype=np.float64)
    batch = spec.training.batch
    if batch == "per-sample":
        return x[0], y[0]
    if batch == "full":
        return x, y
    return x[:batch], y[:batch]


def check_meaning(spec: AssignmentSpec) -> list[tuple[tuple, str]]:
    """(field path, problem) for each thing the model cannot do as the spec asks."""
    problems: list[tuple[tuple, str]] = []
    for i, check in enumerate(spec.checks):
        if check.kind in AUTOGRAD_CHECKS and not spec.training.autograd:
            problems.append((("checks", i, "kind"), f"a {check.kind} check reads autograd's gradients, "
                                                    f"but training.autograd is false"))
    try:
        np.asarray(spec.data.x, dtype=np.float64), np.asarray(spec.data.y, dtype=np.float64)
    except ValueError:
        return problems + [(("data",), "every sample of x (and of y) needs the same shape")]
    problem = Problem(forward=spec.model.forward, loss=spec.model.loss, params=dict(initial_params(spec)),
                      x=list(spec.data.x), y=list(spec.data.y))
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
