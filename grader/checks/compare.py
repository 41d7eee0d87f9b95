"""Comparing a student's values with the reference's, saying where they differ most, and the points a
share of matches earns."""
from __future__ import annotations

import json

import numpy as np

from grader.messages import said
from grader.outcome import TensorData


def matches(expected, got: np.ndarray | None, rtol: float, atol: float) -> bool:
    """|got - expected| <= atol + rtol·|expected| for every element; NaN never matches, nor another size."""
    if got is None:
        return False
    expected = np.asarray(expected, dtype=np.float64).ravel()
    got = np.asarray(got, dtype=np.float64).ravel()
    if expected.size != got.size or not np.all(np.isfinite(got)):
        return False
    return bool(np.all(np.abs(got - expected) <= atol + rtol * np.abs(expected)))


def as_array(data: TensorData | None) -> np.ndarray | None:
    """A recorded tensor as an array; a tensor the student did not record stays None."""
    return None if data is None else data.array()


def share(points: float, matched: int, total: int) -> float:
    """Partial credit: the check's points times the share of items that matched."""
    return round(points * matched / total, 2) if total else 0.0


def show(value) -> float | list | None:
    """A value as feedback shows it: a scalar when it has one element, else its first 8."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64).ravel()
    if arr.size == 1:
        return float(arr[0])
    return [float(v) for v in arr[:8]]


def brief(value):
    """A probe's input (x, y, an argument) as feedback shows it: a number or a short list, else how many samples."""
    arr = np.asarray(value, dtype=np.float64)
    return show(arr) if arr.size <= 8 else said("value.samples", n=arr.shape[0])  # more than 8 entries: an axis


def difference(expected, got, rtol: float, atol: float) -> dict:
    """{"expected", "got"} for feedback, plus "index" (the worst entry's position) when the values are
    tensors of the same size: a 6×8 weight matrix is reported by the entry that is furthest off."""
    if got is None:
        return {"expected": show(expected), "got": None}
    e_full = np.asarray(expected, dtype=np.float64)
    e, g = e_full.ravel(), np.asarray(got, dtype=np.float64).ravel()
    if e.size <= 1 or e.size != g.size:
        return {"expected": show(e), "got": show(g)}
    with np.errstate(invalid="ignore"):
        excess = np.abs(g - e) - (atol + rtol * np.abs(e))
    excess = np.where(np.isfinite(excess), excess, np.inf)
    i = int(np.argmax(excess))
    index = [int(k) for k in np.unravel_index(i, e_full.shape)] if e_full.ndim else []
    return {"index": index, "expected": float(e[i]), "got": float(g[i])}


def input_key(x) -> float | str:
    """How a predictions input is looked up: a number as itself, a vector by its JSON text."""
    if isinstance(x, (int, float)):
        return float(x)
    return json.dumps(np.asarray(x, dtype=np.float64).tolist())
