"""The SQL data model: users, assignments, submissions and their check results (SQLAlchemy 2.0)."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from grader.storable import StorableJSON

ROLES = ("student", "ta", "instructor")
STAFF_ROLES = ("ta", "instructor")  # see every submission of every student
STATUSES = ("queued", "running", "graded", "failed")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite keeps no time zone; it would come back naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given; use an aware UTC datetime")
            value = value.astimezone(dt.timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


def aggregate_time(value) -> dt.datetime | None:
    """An aware UTC datetime from a min()/max() over a UTCDateTime column: SQL aggregates skip the column's type,
    so SQLite hands back a string or a naive datetime."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value


class Base(so.DeclarativeBase):
    metadata = sa.MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class User(Base):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(f"role IN {ROLES}", name="role"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    role: so.Mapped[str] = so.mapped_column(sa.String(16), default="student")
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    api_token_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    # part of every session's user id (grader.web.auth): a logout or a new password draws a new one, which
    # ends every copy of every session the user had
    session_stamp: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    timezone: so.Mapped[str | None] = so.mapped_column(sa.String(64))  # IANA name; None: the browser's
    language: so.Mapped[str | None] = so.mapped_column(sa.String(8))  # grader.i18n.LANGUAGES; None: the browser's

    submissions: so.WriteOnlyMapped["Submission"] = so.relationship(back_populates="user")


class Assignment(Base):
    __tablename__ = "assignments"

    id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    spec_yaml: so.Mapped[str] = so.mapped_column(sa.Text)
    spec_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    version: so.Mapped[int] = so.mapped_column(default=1)
    deadline: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    published: so.Mapped[bool] = so.mapped_column(default=True)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # an instructor's edit of a published spec, waiting for a dry run and "publish changes" (None: no draft)
    draft_yaml: so.Mapped[str | None] = so.mapped_column(sa.Text)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {STATUSES}", name="status"),
        # the dashboards: one assignment's submissions per student, newest first
        sa.Index("ix_submissions_assignment_user_time", "assignment_id", "user_id", "submitted_at"),
        # a student's own list
        sa.Index("ix_submissions_user_time", "user_id", "submitted_at"),
        # the reaper and the queue view: what is queued or running, oldest first
        sa.Index("ix_submissions_status_enqueued", "status", "enqueued_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    assignment_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("assignments.id", ondelete="CASCADE"))
    assignment_version: so.Mapped[int] = so.mapped_column(default=1)
    source: so.Mapped[str] = so.mapped_column(sa.Text)  # a notebook's code cells as a script (grader.notebook)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    # an uploaded notebook (.ipynb) as stored (grader.notebook.stored_text); what the worker runs; None for a script
    notebook: so.Mapped[str | None] = so.mapped_column(sa.Text)
    submitted_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="queued")
    enqueued_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)  # last time a task was sent
    attempt: so.Mapped[int] = so.mapped_column(default=0)  # claims so far; each claim gets a new token
    attempt_token: so.Mapped[str | None] = so.mapped_column(sa.String(36))
    worker: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    started_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    finished_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    score: so.Mapped[float | None] = so.mapped_column(sa.Float)
    max_score: so.Mapped[float | None] = so.mapped_column(sa.Float)
    late_penalty: so.Mapped[float] = so.mapped_column(sa.Float, default=0.0)
    diagnoses: so.Mapped[list] = so.mapped_column(StorableJSON, default=list)  # [{"code", "params"}]
    stdout_excerpt: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    # a notebook's: where each cell's output starts in stdout_excerpt, [[cell, offset], ...] (grader.notebook)
    stdout_cells: so.Mapped[list | None] = so.mapped_column(StorableJSON)
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)  # rows before 0005: why grading failed, in English
    # why the last attempt failed on our side (grader.messages "failure.*" code + parameters); never student output
    error_code: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    error_params: so.Mapped[dict | None] = so.mapped_column(StorableJSON)
    # the running attempt's lease: renewed while it grades; a lease older than GRADER_LEASE_SECONDS means
    # the attempt's process is gone (grader.service.attempts)
    alive_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    # why it last went back to the queue: a grader.submissions.REQUEUE_REASONS code; None if it never did
    requeue_reason: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    # a TA's manual score: while set, `score` holds it (a regrade keeps it); the reason is in the audit log
    override_score: so.Mapped[float | None] = so.mapped_column(sa.Float)

    user: so.Mapped[User] = so.relationship(back_populates="submissions")
    assignment: so.Mapped[Assignment] = so.relationship()
    checks: so.Mapped[list["CheckResultRow"]] = so.relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="CheckResultRow.position")


class CheckResultRow(Base):
    """One check of one graded submission (grader.checks.result.CheckResult, as stored)."""

    __tablename__ = "check_results"

    submission_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    check_id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    position: so.Mapped[int] = so.mapped_column(default=0)
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    passed: so.Mapped[bool]
    points: so.Mapped[float] = so.mapped_column(sa.Float)
    max_points: so.Mapped[float] = so.mapped_column(sa.Float)
    visibility: so.Mapped[str] = so.mapped_column(sa.String(16), default="visible")
    message_code: so.Mapped[str] = so.mapped_column(sa.String(64))
    message_params: so.Mapped[dict] = so.mapped_column(StorableJSON, default=dict)
    details: so.Mapped[dict] = so.mapped_column(StorableJSON, default=dict)

    submission: so.Mapped[Submission] = so.relationship(back_populates="checks")


class DeadlineExtension(Base):
    """One student's own deadline for one assignment; late penalties and after_deadline checks follow it."""

    __tablename__ = "deadline_extensions"
    __table_args__ = (sa.UniqueConstraint("assignment_id", "user_id", name="uq_deadline_extensions_assignment_user"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    assignment_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    deadline: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime)
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    granted_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """What staff changed by hand (overrides, extensions, regrades, specs), who, when and why. Never edited.
    Targets are plain values, not foreign keys: the log outlives what it names."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_submission", "submission_id"),
                      sa.Index("ix_audit_log_assignment_at", "assignment_id", "at"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    actor: so.Mapped[str] = so.mapped_column(sa.String(64))  # the username at the time
    action: so.Mapped[str] = so.mapped_column(sa.String(32))
    assignment_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    submission_id: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    student_id: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    details: so.Mapped[dict] = so.mapped_column(StorableJSON, default=dict)


class WorkerHeartbeat(Base):
    """A grading worker process and when it last said it was alive (the queue-health view)."""

    __tablename__ = "worker_heartbeats"

    name: so.Mapped[str] = so.mapped_column(sa.String(200), primary_key=True)
    last_seen: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    started_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    tasks: so.Mapped[int] = so.mapped_column(default=0)
    # a worker whose sandbox cannot run a job takes no tasks; `problem` says why (the sandbox's own words)
    healthy: so.Mapped[bool] = so.mapped_column(default=True)
    healthy_since: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    problem: so.Mapped[str | None] = so.mapped_column(sa.Text)


class AssignmentFile(Base):
    """A file an instructor uploaded beside a spec: `solution.py` or `mistakes/NAME.py` (for the dry run)."""

    __tablename__ = "assignment_files"

    assignment_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("assignments.id", ondelete="CASCADE"),
                                                     primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200), primary_key=True)
    source: so.Mapped[str] = so.mapped_column(sa.Text)


class DryRun(Base):
    """A spec's solution and mistakes graded on a worker before publishing; the worker writes `result`."""

    __tablename__ = "dry_runs"
    __table_args__ = (sa.Index("ix_dry_runs_assignment_created", "assignment_id", "created_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    assignment_id: so.Mapped[str] = so.mapped_column(sa.ForeignKey("assignments.id", ondelete="CASCADE"))
    spec_yaml: so.Mapped[str] = so.mapped_column(sa.Text)
    spec_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    files: so.Mapped[dict] = so.mapped_column(StorableJSON, default=dict)  # {name: source}
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="queued")  # queued | running | done | failed
    result: so.Mapped[dict] = so.mapped_column(StorableJSON, default=dict)  # {"ok", "problems", "files": [...]}
    requested_by: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    finished_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
