"""What the harness should look at for one spec: parameter names, functions, prediction inputs, probes.

Probe parameter values and inputs are not secret (they are inputs, not answers); the gradients the
reference computes at them never leave the grader.
"""
from __future__ import annotations

import numpy as np

from grader.spec import AssignmentSpec, Probes

MAX_TRACE_STEPS = 20_000
MAX_TENSOR_ELEMENTS = 4096


def probe_points(spec: AssignmentSpec) -> list[dict]:
    """Deterministic random probes: parameter values in [-scale, scale], samples cycled from the data."""
    probes: list[dict] = []
    for check in spec.checks:
        if check.kind != "gradients":
            continue
        settings = check.probes or Probes()
        rng = np.random.default_rng(settings.seed)
        n = len(spec.data.x)
        for i in range(settings.random):
            params = {}
            for name, init in spec.model.params.items():
                shape = np.shape(init)
                value = rng.uniform(-settings.scale, settings.scale, size=shape)
                # Round so that float32 students see exactly the value the reference uses.
                params[name] = np.asarray(value, dtype=np.float32).astype(float).tolist()
            sample = (i + settings.seed) % n
            probes.append({"params": params, "x": spec.data.x[sample], "y": spec.data.y[sample],
                           "check": check.id})
    return probes


def prediction_inputs(spec: AssignmentSpec) -> list[float]:
    inputs: list[float] = []
    for check in spec.checks:
        if check.kind == "predictions":
            inputs += [x for x in check.inputs or [] if x not in inputs]
    return inputs


def build_plan(spec: AssignmentSpec) -> dict:
    """The JSON plan the harness receives (see worker/harness.py)."""
    return {
        "params": list(spec.model.params),
        "forward": spec.functions.forward,
        "loss": spec.functions.loss,
        "predict_inputs": prediction_inputs(spec),
        "probes": [{k: v for k, v in p.items() if k != "check"} for p in probe_points(spec)],
        "max_trace_steps": MAX_TRACE_STEPS,
        "max_tensor_elements": MAX_TENSOR_ELEMENTS,
        "seed": None,
    }
