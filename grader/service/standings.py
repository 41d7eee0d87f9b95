"""Best and latest per student and assignment: the one rule the TA dashboard, both CSV exports and the student
pages show.

Rules:
- `best` is the highest score among the graded submissions (the late penalty applied; a TA's manual override
  counts as the score); among equal scores, the newest one is the best submission.
- `latest` is the newest submission whatever its status (newest `submitted_at`, then the highest id), shown
  with its status; `latest_score` is its score when it is graded and None while it is queued, running or
  failed. So a student who just resubmitted shows a best score and a latest "queued".
- `max_score` is that of the newest graded submission (a spec change may change it).
- Given `shown` (a viewer's scores, grader.visibility: a student's pages), a submission's score is the one
  shown to that viewer, so best and latest never rank by a check that is not open to them.
- `submissions` counts every submission, `graded` and `failed` those in that status, `late` the graded ones
  that lost points to the late penalty.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

import sqlalchemy as sa
import sqlalchemy.orm as so

from grader.models import Submission


@dataclass
class Standing:
    """One student's record on one assignment (the module's rules)."""

    submissions: int = 0
    graded: int = 0
    failed: int = 0
    late: int = 0
    best: float | None = None
    best_id: int | None = None
    latest_id: int | None = None
    latest_status: str | None = None
    latest_score: float | None = None
    last_submitted: dt.datetime | None = None
    max_score: float | None = None
    newest_graded_id: int | None = None  # whose diagnoses the dashboard counts


def standings(session: so.Session, *, assignment_id: str | None = None, user_id: int | None = None,
              shown: Mapping[int, float | None] | None = None) -> dict[tuple[int, str], Standing]:
    """{(user id, assignment id): Standing} for every pair with a submission, optionally of one assignment
    or one user; `shown`: {submission id: the score its viewer may see} instead of the stored scores."""
    where = []
    if assignment_id is not None:
        where.append(Submission.assignment_id == assignment_id)
    if user_id is not None:
        where.append(Submission.user_id == user_id)
    rows = session.execute(
        sa.select(Submission.id, Submission.user_id, Submission.assignment_id, Submission.status, Submission.score,
                  Submission.max_score, Submission.late_penalty, Submission.submitted_at)
        .where(*where).order_by(Submission.submitted_at.desc(), Submission.id.desc()))
    found: dict[tuple[int, str], Standing] = {}
    for s in rows:  # newest first: the first row of a pair is its latest
        score = s.score if shown is None else shown.get(s.id)
        st = found.get((s.user_id, s.assignment_id))
        if st is None:
            st = found[(s.user_id, s.assignment_id)] = Standing(
                latest_id=s.id, latest_status=s.status, last_submitted=s.submitted_at,
                latest_score=score if s.status == "graded" else None)
        st.submissions += 1
        st.failed += s.status == "failed"
        if s.status != "graded" or score is None:
            continue
        st.graded += 1
        st.late += bool(s.late_penalty and s.late_penalty > 0)
        if st.newest_graded_id is None:
            st.newest_graded_id, st.max_score = s.id, s.max_score
        if st.best is None or score > st.best:
            st.best, st.best_id = score, s.id
    return found
