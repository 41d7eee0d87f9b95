"""A submission as one viewer may see it: which checks are open, the first divergent step, the plot series."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from grader.models import Submission
from grader.service import audit
from grader.spec import SpecError
from grader.visibility import ShownScore, shown, shown_score
from grader.web.db import get_session
from grader.web.student.rules import deadline_for, spec_of
from grader.web.language import feedback

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
    traceback: str = ""  # where the script raised: the traceback's last frames in the student's file
    first: dict | None = None  # the first divergent step: step, epoch, sample, param, expected, got
    series: dict | None = None
    plots: list[tuple[str, str]] = field(default_factory=list)  # (name, what it shows)
    score: ShownScore | None = None  # what this viewer may see of the score (grader.visibility)
    diagnosis_codes: list[dict] = field(default_factory=list)  # the shown diagnoses as stored
    override_reason: str = ""  # why a TA set the score (score.set_by_staff), written for the student

    @property
    def final(self) -> bool:
        return self.submission.status in FINAL


def spec_facts(s: Submission) -> tuple[set[str], bool]:
    """What grader.visibility needs from the assignment's spec: its held-out accuracy checks, and whether the
    student computes gradients by hand."""
    try:
        spec = spec_of(s.assignment)
    except SpecError:
        return set(), True
    return {c.id for c in spec.checks if c.kind == "accuracy" and c.data is not None}, spec.training.autograd


def shown_of(s: Submission, staff: bool):
    """grader.visibility.shown for this submission, with its student's own deadline."""
    held_out, autograd = spec_facts(s)
    return shown(s, staff, deadline_for(s.user_id, s.assignment), held_out, autograd)


def present(s: Submission, staff: bool) -> SubmissionView:
    """The submission as this viewer may see it: nothing that depends on a check not open to them."""
    view = SubmissionView(s)
    if s.status != "graded":
        return view
    seen = shown_of(s, staff)
    view.score = seen.score
    if seen.score is not None and seen.score.set_by_staff:
        view.override_reason = audit.override_reason(get_session(), s.id)
    for c in seen.checks:
        row = c.row
        item = CheckView(row.check_id, row.kind, row.max_points, c.open, row.visibility)
        item.message = feedback(c.code, c.params)
        if c.open:
            item.passed, item.points = row.passed, row.points
            details = row.details or {}
            if row.kind == "trace" and isinstance(details.get("first"), dict):
                view.first = details["first"]
            if row.kind == "runs" and isinstance(details.get("traceback"), str):
                view.traceback = details["traceback"]  # the frames in the student's own file only (the harness)
            if isinstance(details.get("series"), dict):
                view.series = details["series"]
        view.checks.append(item)
    view.diagnosis_codes = seen.diagnoses
    view.diagnoses = [feedback(d.get("code", ""), d.get("params") or {}) for d in seen.diagnoses]
    # a script that never ran (a syntax error, a crash before its first backward()) has no line of its own to plot
    if view.series and (view.series.get("steps") or {}).get("student"):
        view.plots = [("loss", "loss")] + [(f"grad-{p}", p) for p in view.series.get("grads", {})]
    return view


def shown_scores(submissions: Iterable[Submission], staff: bool) -> dict[int, ShownScore | None]:
    """{submission id: the score this viewer may see} (grader.visibility), each with its student's deadline."""
    deadlines: dict[tuple[int, str], dt.datetime | None] = {}
    found = {}
    for s in submissions:
        key = (s.user_id, s.assignment_id)
        if key not in deadlines:
            deadlines[key] = deadline_for(s.user_id, s.assignment)
        found[s.id] = shown_score(s, staff, deadlines[key])
    return found


def scores_of_user(user_id: int, staff: bool, assignment_id: str | None = None) -> dict[int, ShownScore | None]:
    """shown_scores() of every graded submission of one user (optionally on one assignment)."""
    query = (sa.select(Submission).where(Submission.user_id == user_id, Submission.status == "graded")
             .options(so.selectinload(Submission.checks)))
    if assignment_id is not None:
        query = query.where(Submission.assignment_id == assignment_id)
    return shown_scores(get_session().scalars(query), staff)
