"""The reaper: re-sends what the database shows unfinished and nobody is grading (the database is the truth).

Each round:
- a queued submission older than the queued deadline is re-sent, unless its message still waits in the
  broker (grader.service.pending): the reaper never puts a second copy in the queue;
- a running submission whose attempt's lease ran out (its worker died: no renewal for lease_seconds), or that
  runs past the running deadline, is queued again and re-sent, with the cause "failure.worker_lost";
- a submission that failed for a cause a healthy worker may cure (grader.service.attempts.CURABLE: a broken
  sandbox, a lost worker, an outage) is queued again, with its attempts from zero, once a healthy worker has
  come up since it failed — so a fixed worker picks up what its broken self failed, and a failure on a
  worker that was already healthy is not retried for ever;
- a dry run no worker finished is ended with a reason.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field
from typing import Callable

import sqlalchemy as sa

from grader import metrics
from grader.config import Config
from grader.db import Database
from grader.messages import said
from grader.models import DryRun, Submission, WorkerHeartbeat, aggregate_time, utcnow
from grader.service.attempts import ATTEMPTS_EXHAUSTED, CURABLE, WORKER_LOST
from grader.service.queue import ALIVE_SECONDS
from grader.submissions import REQUEUE_REAPER, REQUEUE_RECOVERED, requeue

log = logging.getLogger(__name__)


@dataclass
class Reaped:
    queued: list[int]
    running: list[int]
    dry_runs: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return self.queued + self.running + self.failed


def _nothing_waiting(_ids: list[int]) -> set[int]:
    return set()


def reap(db: Database, config: Config, send: Callable[[int], bool], now: dt.datetime | None = None,
         everything: bool = False, waiting: Callable[[list[int]], set[int]] = _nothing_waiting) -> Reaped:
    """Requeue and re-send what is stuck. `everything`: all queued and running rows, whatever their age
    (after a fresh broker started: nothing it holds can be trusted to exist). `waiting(ids)`: the ids whose
    message is still in the broker (not re-sent)."""
    now = now or utcnow()
    queued_before = now - dt.timedelta(seconds=0 if everything else config.queued_deadline)
    running_before = now - dt.timedelta(seconds=0 if everything else config.running_deadline)
    lease_before = now - dt.timedelta(seconds=0 if everything else config.lease_seconds)
    with db.session() as session:
        old_queued = list(session.scalars(
            sa.select(Submission.id).where(Submission.status == "queued", Submission.enqueued_at <= queued_before)
            .order_by(Submission.id).with_for_update(skip_locked=True)))
        in_broker = set() if everything else waiting(old_queued)
        queued = [i for i in old_queued if i not in in_broker]
        running = session.execute(
            sa.select(Submission.id, Submission.worker).where(
                Submission.status == "running",
                sa.or_(Submission.started_at <= running_before, Submission.alive_at.is_(None),
                       Submission.alive_at <= lease_before))
            .order_by(Submission.id).with_for_update(skip_locked=True)).all()
        failed = _curable_failures(session, now)
        requeue(session, queued, REQUEUE_REAPER, now=now)
        for row in running:
            # a requeue clears the attempt token: an attempt that is somehow still alive cannot write
            requeue(session, [row.id], REQUEUE_REAPER, cause=(WORKER_LOST, {"worker": row.worker or ""}), now=now)
        running = [row.id for row in running]
        requeue(session, failed, REQUEUE_RECOVERED, now=now)
    for found, ids in (("queued", queued), ("running", running), ("failed", failed)):
        if ids:
            metrics.RESENT.labels(found).inc(len(ids))
    for submission_id in queued + running + failed:
        send(submission_id)
    if queued or running or failed:
        log.info("reaper re-sent %d queued, %d running and %d failed submissions (%d still waiting in the broker)",
                 len(queued), len(running), len(failed), len(in_broker))
    return Reaped(queued, running, end_lost_dry_runs(db, config, now), failed)


def _curable_failures(session, now: dt.datetime) -> list[int]:
    """Failed submissions whose cause a healthy worker may cure, failed before such a worker came up."""
    healthy_since = aggregate_time(session.scalar(
        sa.select(sa.func.max(WorkerHeartbeat.healthy_since))
        .where(WorkerHeartbeat.healthy.is_(True), WorkerHeartbeat.healthy_since.is_not(None),
               WorkerHeartbeat.last_seen >= now - dt.timedelta(seconds=ALIVE_SECONDS))))
    if healthy_since is None:
        return []
    candidates = session.execute(
        sa.select(Submission.id, Submission.error_code, Submission.error_params)
        .where(Submission.status == "failed", Submission.error_code.is_not(None),
               Submission.finished_at < healthy_since)
        .order_by(Submission.id).with_for_update(skip_locked=True)).all()
    return [row.id for row in candidates if row.error_code in CURABLE or (
        row.error_code == ATTEMPTS_EXHAUSTED and (row.error_params or {}).get("cause") in CURABLE)]


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
            row.result = {"ok": False, "files": [], "problems": [said("dry_run.lost", minutes=limit // 60)]}
        ids = [row.id for row in lost]
    if ids:
        log.warning("reaper ended %d lost dry runs: %s", len(ids), ids)
    return ids


def reap_forever(db: Database, config: Config, send: Callable[[int], bool], stop: threading.Event,
                 first_everything: bool = False,
                 waiting: Callable[[list[int]], set[int]] = _nothing_waiting) -> None:
    """Reap every config.reaper_interval seconds until `stop` is set; a failed round is logged and retried."""
    everything = first_everything
    while not stop.is_set():
        try:
            reap(db, config, send, everything=everything, waiting=waiting)
            everything = False
        except sa.exc.SQLAlchemyError as exc:
            log.warning("reaper: database unavailable (%s); trying again", type(exc).__name__)
        stop.wait(config.reaper_interval)
