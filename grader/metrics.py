"""What an operator can alert on: the service's Prometheus metrics, in one place.

Two kinds:
- counted where they happen (sandbox runs and their outcomes, retries, reaper re-sends, reference-cache hits,
  submit-to-graded latency), in each worker process. With PROMETHEUS_MULTIPROC_DIR set (`grader up` and the
  compose file set it: one folder shared by the web app and the workers) every process writes its samples
  there and `/metrics` adds them up (prometheus-client's multiprocess mode); without it `/metrics` shows the
  web process's own.
- read from the database when `/metrics` is scraped (the database is the truth): submissions by status, the
  queue's depth and oldest wait, worker heartbeats.
"""
from __future__ import annotations

import datetime as dt
import os
import signal as signals

import sqlalchemy as sa
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from grader.models import STATUSES, Submission, WorkerHeartbeat, aggregate_time, utcnow
from grader.outcome import RunReport
from grader.service.queue import ALIVE_SECONDS

SANDBOX_SECONDS = Histogram("grader_sandbox_seconds", "Wall time of one sandboxed run of a submission",
                            buckets=(0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600))
SANDBOX_OUTCOMES = Counter("grader_sandbox_outcomes", "How sandboxed runs ended", ["outcome"])
LATENCY = Histogram("grader_submit_to_graded_seconds", "From a submission's upload to its stored result",
                    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900))
RETRIES = Counter("grader_task_retries", "Grade tasks retried or given back, by cause", ["cause"])
RESENT = Counter("grader_reaper_resent", "Submissions the reaper queued again, by what it found", ["found"])
REFERENCE_CACHE = Counter("grader_reference_cache", "Expected values looked up per grading", ["result"])
OUTCOMES = ("finished", "wall_limit", "cpu_limit", "memory", "signal", "forged_outcome")


def sandbox_outcome(report: RunReport) -> str:
    """One of OUTCOMES for a run: why it ended, as an operator groups it."""
    if report.timed_out:
        return "wall_limit"
    if report.signal == signals.SIGXCPU:
        return "cpu_limit"
    if report.signal == signals.SIGKILL:
        return "memory"  # the sandbox's memory (or process) limit; the wall clock's kill is timed_out above
    if report.signal:
        return "signal"
    if report.outcome is None and report.outcome_error:
        return "forged_outcome"  # a report the harness did not write, or that broke its schema or caps
    return "finished"


def observe_run(report: RunReport) -> None:
    SANDBOX_SECONDS.observe(max(0.0, report.wall_seconds))
    SANDBOX_OUTCOMES.labels(sandbox_outcome(report)).inc()


def observe_graded(submitted_at: dt.datetime) -> None:
    LATENCY.observe(max(0.0, (utcnow() - submitted_at).total_seconds()))


class DatabaseCollector:
    """Gauges read from the database at scrape time."""

    def __init__(self, db):
        self.db = db

    def collect(self):
        now = utcnow()
        with self.db.session() as session:
            counts = dict(session.execute(sa.select(Submission.status, sa.func.count()).group_by(Submission.status)).all())
            oldest = session.scalar(sa.select(sa.func.min(Submission.enqueued_at)).where(Submission.status == "queued"))
            workers = session.execute(sa.select(WorkerHeartbeat.name, WorkerHeartbeat.last_seen, WorkerHeartbeat.healthy,
                                                WorkerHeartbeat.tasks)).all()
        by_status = GaugeMetricFamily("grader_submissions", "Submissions by status", labels=["status"])
        for status in STATUSES:
            by_status.add_metric([status], counts.get(status, 0))
        yield by_status
        yield GaugeMetricFamily("grader_queue_depth", "Submissions waiting for a worker", value=counts.get("queued", 0))
        yield GaugeMetricFamily("grader_oldest_queued_seconds", "How long the oldest queued submission has waited",
                                value=_age(now, oldest))
        alive = GaugeMetricFamily("grader_workers", "Worker processes seen in the last minute", labels=["healthy"])
        seen = GaugeMetricFamily("grader_worker_last_seen_seconds", "Seconds since each worker process's heartbeat",
                                 labels=["worker"])
        recent = [w for w in workers if _age(now, w.last_seen) <= ALIVE_SECONDS]
        alive.add_metric(["true"], sum(1 for w in recent if w.healthy))
        alive.add_metric(["false"], sum(1 for w in recent if not w.healthy))
        for w in workers:
            seen.add_metric([w.name], _age(now, w.last_seen))
        yield alive
        yield seen


def _age(now: dt.datetime, then) -> float:
    then = aggregate_time(then)
    return 0.0 if then is None else max(0.0, (now - then).total_seconds())


def exposition(db) -> bytes:
    """The text the /metrics endpoint serves: the counted metrics of every process, then the database's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY  # this process's own
    database = CollectorRegistry()
    database.register(DatabaseCollector(db))
    return generate_latest(counted) + generate_latest(database)
