"""A submission as one viewer may see it: which checks are open, the first divergent step, the plot series."""
from __future__ import annotations

from dataclasses import dataclass, field

from grader.models import Submission
from grader.web.student.rules import check_open, deadline_for
from grader.web.text import feedback

FINAL = ("graded", "failed")


@dataclass
class CheckView:
    id: str
    kind: str
    max_points: float
    open: bool
    visibility: str
    passed: bool | None = None
    points: float | None = None
    message: str = ""


@dataclass
class SubmissionView:
    submission: Submission
    checks: list[CheckView] = field(default_factory=list)
    diagnoses: list[str] = field(default_factory=list)
    first: dict | None = None  # the first divergent step: step, epoch, sample, param, expected, got
    series: dict | None = None
    plots: list[tuple[str, str]] = field(default_factory=list)  # (name, what it shows)

    @property
    def final(self) -> bool:
        return self.submission.status in FINAL


def present(s: Submission, staff: bool) -> SubmissionView:
    view = SubmissionView(s)
    if s.status != "graded":
        return view
    deadline = deadline_for(s.user_id, s.assignment)
    for c in s.checks:
        is_open = check_open(c.visibility, staff, deadline)
        item = CheckView(c.check_id, c.kind, c.max_points, is_open, c.visibility)
        if is_open:
            item.passed, item.points = c.passed, c.points
            item.message = feedback(c.message_code, c.message_params)
            details = c.details or {}
            if c.kind == "trace" and isinstance(details.get("first"), dict):
                view.first = details["first"]
            if isinstance(details.get("series"), dict):
                view.series = details["series"]
        else:
            code = "check.hidden" if c.visibility == "hidden" else "check.after_deadline"
            item.message = feedback(code)
        view.checks.append(item)
    view.diagnoses = [feedback(d.get("code", ""), d.get("params") or {}) for d in (s.diagnoses or [])
                      if isinstance(d, dict)]
    if view.series:
        view.plots = [("loss", "loss")] + [(f"grad-{p}", p) for p in view.series.get("grads", {})]
    return view
