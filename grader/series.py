"""Per-step series for the plots on a submission's page: loss and each parameter's gradient, student vs reference.

Computed at grading time (the worker has both traces in hand; neither is stored elsewhere) and kept in the
details of the trace check, so the plots open when that check opens. Compact: at most MAX_POINTS points per
series (long runs are sampled at an even stride), 7 significant digits, non-finite values as None (JSON and
PostgreSQL have no NaN).
"""
from __future__ import annotations

import math

import numpy as np

from grader.checks.trace import student_grads
from grader.outcome import RunReport
from grader.reference import ReferenceRun
from grader.scoring import GradeResult

MAX_POINTS = 2000


def _scalar(value) -> float | None:
    """One number per step: the value itself, or the L2 norm of a parameter with several elements."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64).ravel()
    if arr.size == 0:
        return None
    return _number(arr[0] if arr.size == 1 else np.linalg.norm(arr))


def _number(value) -> float | None:
    """A value as the series store it (data for the plots, not words: grader.wording writes numbers for
    readers): 7 significant digits, None for anything not a finite number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return float(f"{number:.7g}") if math.isfinite(number) else None


def _stride(n: int) -> int:
    return max(1, math.ceil(n / MAX_POINTS))


def step_series(reference: ReferenceRun, report: RunReport, params: list[str]) -> dict:
    """{"stride", "steps": {"student", "reference"}, "loss": {...}, "grads": {param: {...}}, "norm": [params]}."""
    trace = report.outcome.trace if report.outcome is not None else []
    n_student, n_ref = len(trace), len(reference.steps)
    stride = _stride(max(n_student, n_ref))
    student = student_grads(report.outcome, params) if trace else []
    norm = [p for p in params if np.asarray(reference.steps[0].grads[p]).size > 1] if n_ref else []
    return {
        "stride": stride,
        "steps": {"student": n_student, "reference": n_ref},
        "loss": {"student": [_number(s.loss) for s in trace[::stride]],
                 "reference": [_number(s.loss) for s in reference.steps[::stride]]},
        "grads": {p: {"student": [_scalar(s.get(p)) for s in student[::stride]],
                      "reference": [_scalar(s.grads.get(p)) for s in reference.steps[::stride]]}
                  for p in params},
        "norm": norm,
    }


def attach_series(result: GradeResult, reference: ReferenceRun, report: RunReport, params: list[str]) -> None:
    """Store the series in the trace check's details (the first check's when the spec has no trace check)."""
    if not result.checks:
        return
    holder = next((c for c in result.checks if c.kind == "trace"), result.checks[0])
    holder.details = {**holder.details, "series": step_series(reference, report, params)}
