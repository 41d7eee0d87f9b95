"""What the harness should look at for one spec: parameter names, functions, prediction inputs, probes.

Probe parameter values and inputs are not secret (they are inputs, not answers); the gradients the
reference computes at them never leave the grader.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from grader.outcome import MAX_TENSOR_ELEMENTS, MAX_TRACE_STEPS

# The training data's x goes to the harness so that it can tell which samples each step used (the data are
# the student's input, not an answer); a larger data set is not matched.
MAX_DATA_X_ELEMENTS = 200_000

if TYPE_CHECKING:  # types only: grader.spec's trial imports grader.expected, which imports this module
    from grader.spec import AssignmentSpec


def function_calls(spec: AssignmentSpec) -> dict[str, str]:
    """How the assignment calls its forward and its loss: `model(x)` and `criterion(model(x), y)` for a module
    and a loss object, `forward(x)` and `loss(x, y)` for the seed homework's functions."""
    forward, loss = spec.functions.forward, spec.functions.loss
    return {"forward": f"{forward}(x)", "loss": "loss(x, y)" if loss == "loss" else f"{loss}({forward}(x), y)"}


def _probe_batch(spec: AssignmentSpec, k: int) -> tuple:
    """The k-th probe's x and y, shaped as the schedule's steps are: a sample, a mini-batch or all samples."""
    x, y, n, batch = spec.data.x, spec.data.y, len(spec.data.x), spec.training.batch
    if batch == "full":
        return x, y
    if batch == "per-sample":
        return x[k % n], y[k % n]
    starts = list(range(0, n, batch))
    start = starts[k % len(starts)]
    return x[start:start + batch], y[start:start + batch]


def probe_points(spec: AssignmentSpec, kinds: tuple[str, ...] = ("gradients",)) -> list[dict]:
    """Deterministic random probes: parameter values in [-scale, scale], samples (or batches) cycled from the data."""
    probes: list[dict] = []
    for check in spec.checks:
        if check.kind not in kinds:
            continue
        settings = check.probe_settings
        rng = np.random.default_rng(settings.seed)
        for i in range(settings.random):
            params = {}
            for name in spec.model.params:
                value = rng.uniform(-settings.scale, settings.scale, size=spec.model.shape(name))
                # Round so that float32 students see exactly the value the reference uses.
                params[name] = np.asarray(value, dtype=np.float32).astype(float).tolist()
            x, y = _probe_batch(spec, i + settings.seed)
            probes.append({"params": params, "x": x, "y": y, "check": check.id})
    return probes


def function_probes(spec: AssignmentSpec) -> list[dict]:
    """Probes of `function` checks: the parameters to set and the arguments to call the student's function with."""
    out = []
    for probe in probe_points(spec, ("function",)):
        check = next(c for c in spec.checks if c.id == probe["check"])
        args = [probe["x"]] if check.returns == "forward" else [probe["x"], probe["y"]]
        out.append({**probe, "function": check.function, "args": args})
    return out


def prediction_inputs(spec: AssignmentSpec) -> list:
    inputs: list = []
    for check in spec.checks:
        if check.kind == "predictions":
            inputs += [item.x for item in check.prediction_inputs if item.x not in inputs]
    return inputs


def batch_inputs(spec: AssignmentSpec) -> list[dict]:
    """The samples each accuracy check classifies: their x only (held-out labels never leave the grader)."""
    return [{"id": c.id, "x": (c.data or spec.data).x} for c in spec.checks if c.kind == "accuracy"]


def data_files(spec: AssignmentSpec) -> dict[str, str]:
    """The training data's file under its own name and its aliases (relative paths), written by the harness
    into the job's working directory tree before the script runs; a name ending in .gz is written as gzip."""
    data = spec.data
    if not data.csv or data.text is None:
        return {}
    return {name: data.text for name in (data.csv, *data.aliases)}


def build_plan(spec: AssignmentSpec) -> dict:
    """The JSON plan the harness receives (see worker/harness.py)."""
    return {
        "params": list(spec.model.params),
        "param_shapes": {name: list(spec.model.shape(name)) for name in spec.model.params},
        "names": spec.names,
        "forward_expr": spec.model.forward,  # the model the description states: settles same-shaped names  # "strict": the spec's names only; "by_role": the student's own are matched too
        "forward": spec.functions.forward,
        "loss": spec.functions.loss,
        "predict_inputs": prediction_inputs(spec),
        "probes": [{k: v for k, v in p.items() if k != "check"} for p in probe_points(spec)],
        "function_probes": [{k: p[k] for k in ("function", "params", "args")} for p in function_probes(spec)],
        "batch_inputs": batch_inputs(spec),
        "files": data_files(spec),
        "integer_labels": "cross_entropy(" in spec.model.loss.replace(" ", ""),
        "max_trace_steps": MAX_TRACE_STEPS,
        "max_tensor_elements": MAX_TENSOR_ELEMENTS,
        "seed": spec.seed,
        "data_x": spec.data.x if _elements(spec.data.x) <= MAX_DATA_X_ELEMENTS else None,
        "hand_gradient": hand_gradient(spec),
        "loss_stand_in": loss_stand_in(spec),
    }


STAND_IN = re.compile(r"^(mse|bce)\(y_pred, *y(?:, *reduction *= *'(sum|mean)')?\)$")


def loss_stand_in(spec: AssignmentSpec) -> dict | None:
    """The spec's loss as the torch loss object that stands in for a script that has none (it calls
    F.binary_cross_entropy in its loop): only a plain torch loss of y_pred and y; None otherwise."""
    found = STAND_IN.match(spec.model.loss.strip())
    return None if found is None else {"kind": found.group(1), "reduction": found.group(2) or "mean"}


def hand_gradient(spec: AssignmentSpec) -> str | None:
    """The student's function whose calls make a run without autograd: the one a `function` check holds to the
    gradient (None when the spec trains with autograd, or checks no such function)."""
    if spec.training.autograd:
        return None
    return next((c.function for c in spec.checks if c.kind == "function" and c.returns == "gradient"), None)


def _elements(x: list) -> int:
    return int(np.asarray(x, dtype=np.float64).size)
