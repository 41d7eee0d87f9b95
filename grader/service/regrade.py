"""Which submissions a regrade takes (the staff pages and `grader regrade`); grader.submissions.requeue queues
them again as a new grading."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from grader.models import Submission

WHICH = ("all", "failed")


def select_ids(session: so.Session, assignment_id: str, which: str) -> list[int]:
    """`which`: "all" submissions of the assignment, or only the "failed" ones."""
    if which not in WHICH:
        raise ValueError(f"which must be one of {WHICH}, got {which!r}")
    query = sa.select(Submission.id).where(Submission.assignment_id == assignment_id)
    if which == "failed":
        query = query.where(Submission.status == "failed")
    return list(session.scalars(query.order_by(Submission.id)))
