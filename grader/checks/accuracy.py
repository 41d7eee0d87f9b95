"""`accuracy` checks: the share of samples the student's trained model classifies right, against a threshold.

One output per sample is class 1 above `cutoff` (0.5 for probabilities); several outputs per sample: the
largest wins. Only the samples' x entered the sandbox; their labels stay here. A run trained on data of the
student's own is held to what the same training on that data classifies right, where that is less.
"""
from __future__ import annotations

import math

import numpy as np

from grader.checks.result import Finding
from grader.expected import Expected
from grader.messages import Message, said
from grader.outcome import RunReport, as_param
from grader.spec import AssignmentSpec, Check, Data
from grader.student_run import outputs_on_own_data


def classes(outputs: np.ndarray, n: int, cutoff: float) -> np.ndarray | None:
    """Predicted class per sample, or None when the outputs do not have one value (or one row) per sample."""
    if outputs.size == n:
        return (outputs.reshape(n) > cutoff).astype(np.int64)
    if n and outputs.size % n == 0:
        return np.argmax(outputs.reshape(n, -1), axis=1)
    return None


def labels(data: Data) -> np.ndarray:
    y = np.asarray(data.y, dtype=np.float64)
    return np.rint(y.reshape(len(data.y), -1)[:, 0] if y.ndim > 1 and y.shape[1] == 1 else y).astype(np.int64)


def grade(check: Check, spec: AssignmentSpec, expected: Expected, report: RunReport) -> Finding:
    data, outcome = check.data or spec.data, report.outcome
    got = next((b for b in outcome.batch_predictions if b.id == check.id), None) if outcome else None
    if got is None or got.error or got.value is None or got.value.data is None:
        error = as_param(got.error) if got and got.error else said("reason.no_predictions")
        return Finding(False, 0.0, Message("accuracy.error", {"error": error}))
    n = len(data.x)
    outputs = got.value.array()
    if not np.all(np.isfinite(outputs)):
        return Finding(False, 0.0, Message("accuracy.error", {"error": said("reason.non_finite_outputs")}))
    predicted = classes(outputs, n, check.cutoff)
    if predicted is None:
        error = said("reason.output_shape", shape=got.value.shape, n=n)
        return Finding(False, 0.0, Message("accuracy.error", {"error": error}))
    truth = _truth(data)
    right = int(np.sum(predicted == truth))
    accuracy = right / n
    # shown as a count and a percentage: a share of 1.0 read as "1 of the 6 samples" says the opposite
    params = {"right": right, "samples": n, "percent": round(100 * accuracy, 1),
              "needed": round(100 * check.threshold, 1), "threshold": check.threshold}
    if accuracy >= check.threshold:
        return Finding(True, check.points, Message("accuracy.ok", params), {"accuracy": accuracy})
    if accuracy >= _accuracy_on_own_data(check, spec, expected, report, truth):
        # the student trained on data of their own (a choice the data facet names and charges): the assignment's
        # training on that data classifies no better, so the shortfall is the data's, not the model's. A model
        # under-trained on the assignment's data (fewer epochs, a small lr) is what the check is there to catch
        return Finding(True, check.points, Message("accuracy.on_own_data", params), {"accuracy": accuracy})
    return Finding(False, 0.0, Message("accuracy.low", params), {"accuracy": accuracy})


def _truth(data: Data) -> np.ndarray:
    truth = labels(data)
    if truth.ndim != 1:  # one-hot labels
        truth = np.argmax(np.asarray(data.y, dtype=np.float64), axis=1)
    return truth


def _accuracy_on_own_data(check: Check, spec: AssignmentSpec, expected: Expected, report: RunReport,
                          truth: np.ndarray) -> float:
    """The accuracy of the assignment's training on the student's own data, replayed with their choices
    (grader.student_run); above every accuracy where they trained on the assignment's data."""
    x = (check.data or spec.data).x
    try:
        outputs = outputs_on_own_data(spec, expected, report, x)
    except (ValueError, ArithmeticError):
        outputs = None
    replayed = None if outputs is None else classes(outputs, len(x), check.cutoff)
    if replayed is None or not np.all(np.isfinite(outputs)):
        return math.inf
    return int(np.sum(replayed == truth)) / len(x)
