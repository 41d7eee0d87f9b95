"""Accepting a submission: store it (the database is the truth), then wake a worker through the broker.

This module is imported by the web process: it must never import worker.sandbox, worker.tasks or torch.
The grade task is sent by name.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Callable

import sqlalchemy as sa
import sqlalchemy.orm as so
from celery import Celery

from grader.config import Config
from grader.db import Database
from grader.models import Assignment, Submission, User, utcnow
from grader.service.pending import PendingMarks
from grader.source_text import MAX_SOURCE_BYTES, decode_script
from grader.task_names import GRADE_TASK

log = logging.getLogger(__name__)


class SubmissionError(ValueError):
    """A submission we refuse, with a message for the student."""


def sender_app(config: Config) -> Celery:
    """A Celery app that only sends (no task module imported), with the workers' broker settings."""
    app = Celery("grader-sender", set_as_current=False)
    app.conf.update(config.celery_settings())
    return app


@dataclass
class Sender:
    """Sends grade tasks by name. A send that fails is logged, not raised: the reaper re-sends it.

    The commit is the promise, so a send never holds a request for long: after a failed send, sends are
    skipped for `pause_seconds` (the broker is down; each would wait for its own connection retries) and
    left to the reaper. Each grade task sent gets its pending marker (grader.service.pending)."""

    app: Celery
    pause_seconds: float = 5.0
    marks: PendingMarks | None = None
    _failed_at: float = field(default=-1e9, repr=False)

    def __post_init__(self):
        if self.marks is None:
            self.marks = PendingMarks(str(self.app.conf.broker_url or ""),
                                      ttl=int(self.app.conf.get("grader_pending_ttl") or 600))

    def send(self, submission_id: int) -> bool:
        if time.monotonic() - self._failed_at < self.pause_seconds:
            log.info("broker failed moments ago; submission %s is left to the reaper", submission_id)
            return False
        try:
            self.marks.mark(submission_id)
            self.app.send_task(GRADE_TASK, args=[submission_id])
            return True
        except Exception as exc:  # noqa: BLE001 - kombu/redis raise many types; the row is safe either way
            self._failed_at = time.monotonic()
            log.warning("could not enqueue submission %s (%s: %s); the reaper will re-send it",
                        submission_id, type(exc).__name__, exc)
            return False

    def send_task(self, name: str, args: list) -> bool:
        """Send any worker task by name (e.g. the instructor's dry run); False when the broker refused it."""
        try:
            self.app.send_task(name, args=args)
            return True
        except Exception as exc:  # noqa: BLE001 - as in send()
            log.warning("could not send task %s%s (%s: %s)", name, args, type(exc).__name__, exc)
            return False

    def ping(self, timeout: float = 1.0) -> bool:
        """Whether the broker answers now."""
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=timeout)
            return True
        except Exception:  # noqa: BLE001 - any failure means "not reachable now"
            return False

    def close(self) -> None:
        self.marks.close()
        self.app.close()


def decode_source(data: bytes) -> str:
    if len(data) > MAX_SOURCE_BYTES:
        raise SubmissionError(f"the file is larger than {MAX_SOURCE_BYTES // 1024} KB")
    if not data.strip():
        raise SubmissionError("the file is empty")
    try:
        return decode_script(data)[0]
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"the file is not UTF-8 (or GB18030) text (byte {exc.start})") from None


def clean_filename(name: str | None) -> str:
    base = (name or "submission.py").replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "")
    return base[:200] or "submission.py"


def store(session: so.Session, user: User, assignment_id: str, source: str, filename: str,
          now: dt.datetime | None = None) -> Submission:
    """Insert a queued submission (not committed). SubmissionError for an unknown or unpublished assignment."""
    assignment = session.get(Assignment, assignment_id) if isinstance(assignment_id, str) else None
    if assignment is None or (not assignment.published and user.role == "student"):
        raise SubmissionError(f"unknown assignment {assignment_id!r}")
    now = now or utcnow()
    submission = Submission(user_id=user.id, assignment_id=assignment.id, assignment_version=assignment.version,
                            source=source, sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(),
                            filename=clean_filename(filename), submitted_at=now, enqueued_at=now,
                            status="queued", attempt=0)
    session.add(submission)
    session.flush()
    return submission


def submit(db: Database, send: Callable[[int], bool], user_id: int, assignment_id: str, source: str,
           filename: str = "submission.py") -> Submission:
    """Store the submission and COMMIT, then send the grade task. The order matters: a worker must find
    the row, and a row whose task was lost is re-sent by the reaper."""
    with db.session() as session:
        user = session.get(User, user_id)
        if user is None:
            raise SubmissionError(f"no user with id {user_id}")
        submission = store(session, user, assignment_id, source, filename)
    send(submission.id)
    return submission


def requeue(session: so.Session, ids: list[int], now: dt.datetime | None = None) -> None:
    """Mark submissions queued again with a fresh enqueue time (the caller commits, then sends)."""
    if ids:
        session.execute(sa.update(Submission).where(Submission.id.in_(ids))
                        .values(status="queued", enqueued_at=now or utcnow(), error=None))
