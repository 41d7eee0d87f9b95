"""The reaper: re-sends submissions stuck in queued or running past their deadline, and ends dry runs no worker
finished (the database is the truth)."""
from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from typing import Callable

import sqlalchemy as sa

from grader.config import Config
from grader.db import Database
from grader.models import DryRun, Submission, utcnow

log = logging.getLogger(__name__)


@dataclass
class Reaped:
    queued: list[int]
    running: list[int]
    dry_runs: list[int] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return self.queued + self.running


def reap(db: Database, config: Config, send: Callable[[int], bool], now: dt.datetime | None = None,
         everything: bool = False) -> Reaped:
    """Requeue and re-send what is stuck. `everything`: all queued and running rows, whatever their age
    (after a fresh broker started: nothing it holds can be trusted to exist)."""
    now = now or utcnow()
    queued_before = now - dt.timedelta(seconds=0 if everything else config.queued_deadline)
    running_before = now - dt.timedelta(seconds=0 if everything else config.running_deadline)
    with db.session() as session:
        queued = list(session.scalars(
            sa.select(Submission.id).where(Submission.status == "queued", Submission.enqueued_at <= queued_before)
            .order_by(Submission.id).with_for_update(skip_locked=True)))
        running = list(session.scalars(
            sa.select(Submission.id).where(Submission.status == "running", Submission.started_at <= running_before)
            .order_by(Submission.id).with_for_update(skip_locked=True)))
        ids = queued + running
        if ids:
            # a requeue clears the attempt token: an attempt that is somehow still alive cannot write
            session.execute(sa.update(Submission).where(Submission.id.in_(ids))
                            .values(status="queued", enqueued_at=now, attempt_token=None))
    for submission_id in ids:
        send(submission_id)
    if ids:
        log.info("reaper re-sent %d queued and %d running submissions", len(queued), len(running))
    return Reaped(queued, running, end_lost_dry_runs(db, config, now))


def end_lost_dry_runs(db: Database, config: Config, now: dt.datetime) -> list[int]:
    """A dry run still queued or running after the queue's deadline plus the task's hard time limit was lost
    (its worker died, or the broker lost it): mark it failed with a reason, so the instructor's page stops
    waiting and offers to run it again. Not re-sent: the instructor decides whether the spec still matters."""
    limit = config.queued_deadline + config.task_hard_seconds
    with db.session() as session:
        lost = list(session.scalars(
            sa.select(DryRun).where(DryRun.status.in_(("queued", "running")),
                                    DryRun.created_at <= now - dt.timedelta(seconds=limit))
            .order_by(DryRun.id).with_for_update(skip_locked=True)))
        for row in lost:
            row.status, row.finished_at = "failed", now
            row.result = {"ok": False, "files": [], "problems": [
                f"no worker finished this dry run within {limit // 60} minutes (a worker was lost, or none is "
                "running); run it again"]}
        ids = [row.id for row in lost]
    if ids:
        log.warning("reaper ended %d lost dry runs: %s", len(ids), ids)
    return ids


def reap_forever(db: Database, config: Config, send: Callable[[int], bool], stop: threading.Event,
                 first_everything: bool = False) -> None:
    """Reap every config.reaper_interval seconds until `stop` is set; a failed round is logged and retried."""
    everything = first_everything
    while not stop.is_set():
        try:
            reap(db, config, send, everything=everything)
            everything = False
        except sa.exc.SQLAlchemyError as exc:
            log.warning("reaper: database unavailable (%s); trying again", type(exc).__name__)
        stop.wait(config.reaper_interval)
