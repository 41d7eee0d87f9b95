"""Attempts at grading one submission, as database transactions.

Rules: each claim marks the submission running with a new attempt token (attempt + 1); a result is written
only by the attempt whose token is still current, all in one transaction; a requeue (reaper, regrade,
retry) clears the token, so an attempt that outlived its requeue cannot write. The newest claim wins.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from grader.db import Database
from grader.models import Assignment, CheckResultRow, Submission, utcnow
from grader.scoring import GradeResult

STDOUT_EXCERPT_CHARS = 8000


@dataclass(frozen=True)
class Claim:
    """What one attempt needs, copied out of the session so none is held while the sandbox runs."""

    submission_id: int
    token: str
    attempt: int
    source: str
    filename: str
    submitted_at: dt.datetime
    spec_yaml: str
    assignment_id: str


def claim(db: Database, submission_id: int, worker: str, max_attempts: int) -> Claim | None:
    """Start a new attempt, or None when there is nothing to do (graded, failed, unknown, given up)."""
    token = str(uuid.uuid4())
    now = utcnow()
    with db.session() as session:
        # write first: the row lock (PostgreSQL) / write lock (SQLite) orders concurrent claims
        done = session.execute(
            sa.update(Submission)
            .where(Submission.id == submission_id, Submission.status.in_(("queued", "running")),
                   Submission.attempt < max_attempts)
            .values(status="running", attempt=Submission.attempt + 1, attempt_token=token, started_at=now,
                    finished_at=None, worker=worker[:200])
        ).rowcount
        if not done:
            session.execute(
                sa.update(Submission)
                .where(Submission.id == submission_id, Submission.status.in_(("queued", "running")))
                .values(status="failed", attempt_token=None, finished_at=now,
                        error=f"grading did not finish after {max_attempts} attempts"))
            return None
        row = session.execute(
            sa.select(Submission.attempt, Submission.source, Submission.filename, Submission.submitted_at,
                      Assignment.spec_yaml, Assignment.id)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .where(Submission.id == submission_id)).one()
    return Claim(submission_id, token, row.attempt, row.source, row.filename, row.submitted_at, row.spec_yaml,
                 row.id)


def write_result(db: Database, claim: Claim, result: GradeResult) -> bool:
    """Store a graded result if this attempt is still current; False (nothing written) otherwise."""
    now = utcnow()
    with db.session() as session:
        current = session.execute(
            sa.update(Submission)
            .where(Submission.id == claim.submission_id, Submission.attempt_token == claim.token,
                   Submission.status == "running")
            .values(status=result.status if result.status in ("graded", "failed") else "graded",
                    # a TA's manual override outlives a regrade (it is cleared by hand, with a reason)
                    score=sa.case((Submission.override_score.is_not(None), Submission.override_score),
                                  else_=result.score),
                    max_score=result.max_score, late_penalty=result.late_penalty,
                    diagnoses=[d.as_dict() for d in result.diagnoses],
                    stdout_excerpt=result.stdout[:STDOUT_EXCERPT_CHARS], finished_at=now, error=None)
        ).rowcount
        if not current:
            return False
        session.execute(sa.delete(CheckResultRow).where(CheckResultRow.submission_id == claim.submission_id))
        session.add_all(
            CheckResultRow(submission_id=claim.submission_id, check_id=c.id, position=i, kind=c.kind,
                           passed=c.passed, points=c.points, max_points=c.max_points, visibility=c.visibility,
                           message_code=c.message.code, message_params=c.message.params, details=c.details)
            for i, c in enumerate(result.checks))
    return True


def release(db: Database, claim: Claim, error: str) -> bool:
    """Give an attempt back after an infrastructure failure: queued again, to be retried."""
    with db.session() as session:
        return bool(session.execute(
            sa.update(Submission)
            .where(Submission.id == claim.submission_id, Submission.attempt_token == claim.token)
            .values(status="queued", attempt_token=None, enqueued_at=utcnow(), error=error[:2000])
        ).rowcount)


def give_up(db: Database, submission_id: int, error: str) -> None:
    """Retries exhausted: the submission is failed (an infrastructure failure, not the student's)."""
    with db.session() as session:
        session.execute(
            sa.update(Submission)
            .where(Submission.id == submission_id, Submission.status.in_(("queued", "running")))
            .values(status="failed", attempt_token=None, finished_at=utcnow(), error=error[:2000]))
