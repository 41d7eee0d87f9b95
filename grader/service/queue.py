"""Queue health from the database (the truth): what waits, what runs, what failed, which workers are alive.

Workers write a heartbeat row per process (worker/tasks.py) every HEARTBEAT_SECONDS and at each task.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from grader.db import Database
from grader.models import Submission, WorkerHeartbeat, aggregate_time, utcnow

HEARTBEAT_SECONDS = 15
ALIVE_SECONDS = 60
# an estimate's grading time per submission: the mean of the last RECENT_JOBS runs, DEFAULT_JOB_SECONDS before any
RECENT_JOBS = 20
DEFAULT_JOB_SECONDS = 2.0


@dataclass
class QueueHealth:
    queued: int
    running: int
    failed: int
    oldest_waiting: dt.datetime | None  # enqueue time of the oldest queued submission
    workers: list[WorkerHeartbeat]  # seen in the last minute
    now: dt.datetime

    @property
    def oldest_wait_seconds(self) -> float | None:
        return None if self.oldest_waiting is None else max(0.0, (self.now - self.oldest_waiting).total_seconds())


def queue_health(session: so.Session, now: dt.datetime | None = None, assignment_id: str | None = None) -> QueueHealth:
    now = now or utcnow()
    where = [] if assignment_id is None else [Submission.assignment_id == assignment_id]
    counts = dict(session.execute(sa.select(Submission.status, sa.func.count()).where(*where)
                                  .group_by(Submission.status)).all())
    oldest = aggregate_time(session.scalar(
        sa.select(sa.func.min(Submission.enqueued_at)).where(Submission.status == "queued", *where)))
    workers = list(session.scalars(sa.select(WorkerHeartbeat).where(
        WorkerHeartbeat.last_seen >= now - dt.timedelta(seconds=ALIVE_SECONDS)).order_by(WorkerHeartbeat.name)))
    return QueueHealth(counts.get("queued", 0), counts.get("running", 0), counts.get("failed", 0), oldest, workers, now)


def beat(db: Database, name: str, task_done: bool = False, healthy: bool = True, problem: str | None = None) -> None:
    """Record that worker process `name` is alive (insert or update its row), and whether its sandbox can run
    jobs: `healthy_since` is when it last became able to (the reaper re-queues what failed before that)."""
    now = utcnow()
    with db.session() as session:
        row = session.get(WorkerHeartbeat, name[:200])
        if row is None:
            row = WorkerHeartbeat(name=name[:200], last_seen=now, started_at=now, tasks=0, healthy=healthy,
                                  healthy_since=now if healthy else None)
            session.add(row)
        elif healthy and not (row.healthy and row.healthy_since):
            row.healthy_since = now
        row.last_seen, row.healthy = now, healthy
        row.problem = None if healthy else (problem or "")[:2000]
        if not healthy:
            row.healthy_since = None
        if task_done:
            row.tasks += 1


@dataclass
class Place:
    """Where a queued submission stands: `position` 1 starts next; `seconds`, about how long until it is graded."""

    position: int
    seconds: float


def position_in_queue(session: so.Session, submission: Submission) -> int:
    """1 + the queued submissions sent before this one (the workers take the oldest first)."""
    earlier = sa.or_(Submission.enqueued_at < submission.enqueued_at,
                     sa.and_(Submission.enqueued_at == submission.enqueued_at, Submission.id < submission.id))
    return 1 + session.scalar(sa.select(sa.func.count()).select_from(Submission)
                              .where(Submission.status == "queued", earlier))


def place_in_queue(session: so.Session, submission: Submission, now: dt.datetime | None = None) -> Place | None:
    """The submission's Place, None unless it is queued. The estimate: the jobs ahead of it (queued before it, and
    running) shared among the healthy workers seen in the last minute (at least one), each taking as long as the
    recent runs took on average, and then its own run."""
    if submission.status != "queued":
        return None
    now = now or utcnow()
    position = position_in_queue(session, submission)
    running = session.scalar(sa.select(sa.func.count()).select_from(Submission).where(Submission.status == "running"))
    workers = session.scalar(sa.select(sa.func.count()).select_from(WorkerHeartbeat).where(
        WorkerHeartbeat.healthy.is_(True), WorkerHeartbeat.last_seen >= now - dt.timedelta(seconds=ALIVE_SECONDS)))
    recent = session.execute(sa.select(Submission.started_at, Submission.finished_at).where(
        Submission.status == "graded", Submission.started_at.is_not(None), Submission.finished_at.is_not(None))
        .order_by(Submission.finished_at.desc()).limit(RECENT_JOBS)).all()
    took = [(r.finished_at - r.started_at).total_seconds() for r in recent]
    per_job = sum(took) / len(took) if took else DEFAULT_JOB_SECONDS
    rounds = (position - 1 + running) // max(1, workers) + 1
    return Place(position, max(1.0, rounds * per_job))
