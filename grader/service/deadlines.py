"""Each student's own deadline: the assignment's, unless a TA granted an extension.

Rules: a student's effective deadline is their extension's deadline when one exists, else the assignment's.
Late penalties (grader.lateness: the worker, and re-pricing here) and `after_deadline` visibility (pages, API)
all read it from `effective_deadline`; granting or withdrawing an extension re-prices that student's graded
submissions at once.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from grader.models import Assignment, DeadlineExtension, Submission, User, utcnow
from grader.lateness import price_for, reprice_row
from grader.spec import AssignmentSpec


def extension_for(session: so.Session, user_id: int, assignment_id: str) -> DeadlineExtension | None:
    return session.scalar(sa.select(DeadlineExtension).where(DeadlineExtension.user_id == user_id,
                                                             DeadlineExtension.assignment_id == assignment_id))


def effective_deadline(session: so.Session, user_id: int, assignment: Assignment) -> dt.datetime | None:
    """The deadline that applies to this student on this assignment."""
    ext = extension_for(session, user_id, assignment.id)
    return ext.deadline if ext is not None else assignment.deadline


def deadline_of_submission(session: so.Session, submission_id: int) -> dt.datetime | None:
    """The effective deadline of a submission's author (the worker asks before grading)."""
    row = session.execute(
        sa.select(Assignment.deadline, DeadlineExtension.deadline.label("extended"))
        .select_from(Submission).join(Assignment, Assignment.id == Submission.assignment_id)
        .outerjoin(DeadlineExtension, sa.and_(DeadlineExtension.assignment_id == Submission.assignment_id,
                                              DeadlineExtension.user_id == Submission.user_id))
        .where(Submission.id == submission_id)).one_or_none()
    if row is None:
        return None
    return row.extended if row.extended is not None else row.deadline


def _graded(session: so.Session, user_id: int, assignment_id: str) -> list[Submission]:
    """A student's graded submissions of one assignment, oldest first: what a deadline change prices."""
    return list(session.scalars(sa.select(Submission).where(Submission.user_id == user_id,
                                                            Submission.assignment_id == assignment_id,
                                                            Submission.status == "graded").order_by(Submission.id)))


def reprice(session: so.Session, spec: AssignmentSpec, user_id: int, assignment_id: str,
            deadline: dt.datetime | None) -> int:
    """Re-price a student's graded submissions for a new deadline (grader.lateness.reprice_row). Returns how
    many changed."""
    return sum(reprice_row(s, spec.late, deadline) for s in _graded(session, user_id, assignment_id))


def costs(session: so.Session, spec: AssignmentSpec, user_id: int, assignment_id: str,
          deadline: dt.datetime | None) -> list[tuple[Submission, float | None, float | None]]:
    """What a new deadline would do to a student's graded submissions, changing nothing: (submission, score
    now, score then) for each whose score would change."""
    priced = [(s, price_for(s, spec.late, deadline)[1]) for s in _graded(session, user_id, assignment_id)]
    return [(s, s.score, score) for s, score in priced if score != s.score]


class ExtensionError(ValueError):
    """An extension we refuse, with a message for the TA."""


def grant(session: so.Session, spec: AssignmentSpec, assignment: Assignment, student: User, deadline: dt.datetime,
          reason: str, granted_by: int | None) -> tuple[DeadlineExtension, int]:
    """Give `student` their own deadline (replacing an earlier extension); re-price their graded work."""
    if student.role != "student":
        raise ExtensionError("extensions are for students")
    if deadline.tzinfo is None:
        raise ExtensionError("the new deadline needs a time zone")
    ext = extension_for(session, student.id, assignment.id)
    if ext is None:
        ext = DeadlineExtension(assignment_id=assignment.id, user_id=student.id, deadline=deadline, reason=reason,
                                granted_by=granted_by, granted_at=utcnow())
        session.add(ext)
    else:
        ext.deadline, ext.reason, ext.granted_by, ext.granted_at = deadline, reason, granted_by, utcnow()
    session.flush()
    return ext, reprice(session, spec, student.id, assignment.id, deadline)


def revoke(session: so.Session, spec: AssignmentSpec, assignment: Assignment, student_id: int) -> int:
    """Withdraw a student's extension: the assignment's deadline applies again. Returns re-priced count."""
    ext = extension_for(session, student_id, assignment.id)
    if ext is None:
        return 0
    session.delete(ext)
    session.flush()
    return reprice(session, spec, student_id, assignment.id, assignment.deadline)
