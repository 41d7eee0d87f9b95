"""Regrading: queue submissions again as a new grading (attempts from zero, any running attempt void)."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from grader.models import Submission
from grader.submissions import requeue


def select_ids(session: so.Session, assignment_id: str, which: str) -> list[int]:
    """`which`: "all" submissions of the assignment, or only the "failed" ones."""
    query = sa.select(Submission.id).where(Submission.assignment_id == assignment_id)
    if which == "failed":
        query = query.where(Submission.status == "failed")
    return list(session.scalars(query.order_by(Submission.id)))


def mark_for_regrade(session: so.Session, ids: list[int]) -> None:
    """Queued again with no attempt (the caller commits, then sends each id)."""
    if ids:
        requeue(session, ids)
        session.execute(sa.update(Submission).where(Submission.id.in_(ids)).values(attempt=0, attempt_token=None))
