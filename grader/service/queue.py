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
