"""Attempts at grading one submission, as database transactions.

Rules:
- a claim marks the submission running with a new attempt token (attempt + 1) and a fresh lease; while a
  running attempt keeps renewing its lease (`renew`, every lease_seconds / 3), nobody else may claim the
  submission: a duplicate delivery of the task does nothing;
- a running submission whose lease is older than lease_seconds lost its attempt (its worker died): the next
  claim (a redelivery, or the reaper's re-send) takes it over, and only that counts as one more attempt;
- a result is written only by the attempt whose token is still current, all in one transaction; a requeue
  (reaper, regrade, retry) clears the token, so an attempt that outlived its requeue cannot write;
- why an attempt failed on our side is stored as a "failure.*" code (grader.messages) with parameters, and
  survives until a result is written; after max_attempts failed attempts the submission is failed with that
  last cause.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import sqlalchemy as sa

from grader.db import Database
from grader.models import Assignment, CheckResultRow, Submission, utcnow
from grader.scoring import GradeResult
from grader.submissions import REQUEUE_RETRY, requeue

# what is kept of a script's output: as much as the sandbox keeps (a spec's output_kb is at most 256 KB); the
# pages show its head and tail (grader.web.student.submission), the whole is one link away
STDOUT_EXCERPT_CHARS = 256 * 1024
DETAIL_CHARS = 2000

# why grading failed on our side (texts in grader.messages)
SANDBOX_FAILED = "failure.sandbox"  # {worker, detail}: the worker's sandbox could not run the job
TIMED_OUT = "failure.timeout"  # {worker, detail}: the task ran past its soft time limit
SPEC_BROKEN = "failure.spec"  # {problems}: the stored spec's problems as records (a SpecProblem's as_dict)
WORKER_LOST = "failure.worker_lost"  # {worker}: the attempt's lease ran out (its worker died)
INFRASTRUCTURE = "failure.infrastructure"  # {detail}: the database or broker stayed unreachable
UNEXPECTED = "failure.unexpected"  # {detail}: a bug of ours ended the task
ATTEMPTS_EXHAUSTED = "failure.attempts"  # {attempts, cause, cause_params}: gave up; `cause` is the last failure
# causes that a healthy worker may cure: a failed submission with one of these is re-queued by the reaper
CURABLE = (SANDBOX_FAILED, TIMED_OUT, WORKER_LOST, INFRASTRUCTURE)


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
    notebook: str | None = None  # an uploaded notebook, run instead of `source` (its code cells as a script)


def _stale(now: dt.datetime, lease_seconds: float):
    """The condition "this running submission's attempt is gone" (no lease renewed for lease_seconds)."""
    cutoff = now - dt.timedelta(seconds=lease_seconds)
    return sa.and_(Submission.status == "running",
                   sa.or_(Submission.alive_at.is_(None), Submission.alive_at < cutoff))


def claim(db: Database, submission_id: int, worker: str, max_attempts: int, lease_seconds: float = 30,
          resume: str | None = None) -> Claim | None:
    """Start a new attempt, or None when there is nothing to do: graded, failed, unknown, given up, or
    being graded right now by a live attempt. `resume`: the token of this task's own attempt that an outage
    interrupted (a retry takes it up again without counting one more attempt)."""
    token = str(uuid.uuid4())
    now = utcnow()
    own = sa.and_(Submission.status == "running", Submission.attempt_token == resume) if resume else sa.false()
    claimable = sa.or_(Submission.status == "queued", _stale(now, lease_seconds), own)
    with db.session() as session:
        # write first: the row lock (PostgreSQL) / write lock (SQLite) orders concurrent claims
        done = session.execute(
            sa.update(Submission)
            .where(Submission.id == submission_id, claimable, sa.or_(own, Submission.attempt < max_attempts))
            .values(status="running", attempt=sa.case((own, Submission.attempt), else_=Submission.attempt + 1),
                    attempt_token=token, started_at=now, alive_at=now, finished_at=None, worker=worker[:200])
        ).rowcount
        if not done:
            last = session.execute(sa.select(Submission.attempt, Submission.error_code, Submission.error_params)
                                   .where(Submission.id == submission_id, claimable)).one_or_none()
            if last is not None:  # claimable but out of attempts: failed, keeping the last real cause
                session.execute(
                    sa.update(Submission).where(Submission.id == submission_id, claimable)
                    .values(status="failed", attempt_token=None, finished_at=now, alive_at=None,
                            error_code=ATTEMPTS_EXHAUSTED,
                            error_params={"attempts": last.attempt, "cause": last.error_code or WORKER_LOST,
                                          "cause_params": last.error_params or {}}))
            return None
        row = session.execute(
            sa.select(Submission.attempt, Submission.source, Submission.filename, Submission.submitted_at,
                      Assignment.spec_yaml, Assignment.id, Submission.notebook)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .where(Submission.id == submission_id)).one()
    return Claim(submission_id, token, row.attempt, row.source, row.filename, row.submitted_at, row.spec_yaml,
                 row.id, row.notebook)


def renew(db: Database, claim: Claim) -> bool:
    """Renew this attempt's lease; False when it is no longer the current attempt."""
    with db.session() as session:
        return bool(session.execute(
            sa.update(Submission)
            .where(Submission.id == claim.submission_id, Submission.attempt_token == claim.token,
                   Submission.status == "running")
            .values(alive_at=utcnow())).rowcount)


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
                    stdout_excerpt=result.stdout[:STDOUT_EXCERPT_CHARS], finished_at=now, alive_at=None,
                    stdout_cells=None if result.cell_starts is None else [
                        [cell, offset] for cell, offset in result.cell_starts if offset < STDOUT_EXCERPT_CHARS],
                    error=None, error_code=None, error_params=None)
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


def _clipped(params: dict) -> dict:
    return {k: v[:DETAIL_CHARS] if isinstance(v, str) else v for k, v in params.items()}


def release(db: Database, claim: Claim, code: str, params: dict) -> bool:
    """Give an attempt back after a failure on our side: queued again (to be re-sent), with the cause."""
    with db.session() as session:
        return bool(requeue(session, [claim.submission_id], REQUEUE_RETRY, cause=(code, _clipped(params)),
                            token=claim.token))


def give_up(db: Database, submission_id: int, code: str, params: dict) -> None:
    """An unexpected error ended the task for good: the submission is failed with the cause."""
    with db.session() as session:
        session.execute(
            sa.update(Submission)
            .where(Submission.id == submission_id, Submission.status.in_(("queued", "running")))
            .values(status="failed", attempt_token=None, alive_at=None, finished_at=utcnow(),
                    error_code=code, error_params=_clipped(params)))
