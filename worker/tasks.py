"""The grade task: claim an attempt, run the sandbox with no database session open, write the result once.

Failures that are not the student's (grader.service.attempts holds the rules and the "failure.*" codes):
- the database or broker unreachable: retried with backoff spanning minutes (config.retry_delay); a task that
  runs out of retries leaves the submission as it is, for the reaper — never failed for an outage;
- this worker's sandbox broken: the submission is given back with the cause and re-sent, and this worker
  stops taking tasks until its sandbox works again (worker.health), so another worker grades it;
- the task past its soft time limit: given back with the cause and retried.
A student's failure is a graded result (worker.grading turns it into check results) and never a retry.
A delivery of a submission that a live attempt is grading does nothing (the attempt's lease).
"""
from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import time
from dataclasses import asdict

import sqlalchemy as sa
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import (after_setup_logger, after_setup_task_logger, celeryd_init, worker_process_init,
                            worker_process_shutdown)

from grader.db import DATABASE_DOWN, Database
from grader import lateness, metrics
from grader.expected import expected_cache_hits, expected_for
from grader.logs import grading_context, use_format
from grader.messages import said
from grader.series import attach_series
from grader.models import DryRun, utcnow
from grader.selfcheck import check_sources
from grader.service import attempts, deadlines, queue
from grader.service.pending import PendingMarks
from grader.spec import SpecError, parse_spec
from grader.submissions import script_name
from grader.task_names import DRY_RUN_TASK, GRADE_TASK
from worker.celery_app import app, config
from worker.grading import grade_upload, script_grader
from worker.health import PROBE_SECONDS, Health, probe
from worker.sandbox import SandboxUnavailable, get_sandbox

log = logging.getLogger(__name__)
GRADING_QUEUE = "grading"


class _Runtime:
    """This process's database engine, warm sandbox and broker markers (none survives a fork)."""

    def __init__(self):
        self.pid = None
        self._db = None
        self._sandbox = None
        self._marks = None
        self._lock = threading.Lock()

    def _check_pid(self) -> None:
        if self.pid != os.getpid():
            if self._db is not None:
                self._db.engine.dispose(close=False)  # the parent's connections are not ours to close
            self._db, self._sandbox, self._marks, self.pid = None, None, None, os.getpid()

    @property
    def db(self) -> Database:
        with self._lock:
            self._check_pid()
            if self._db is None:
                self._db = Database(config.database_url)
            return self._db

    @property
    def sandbox(self):
        with self._lock:
            self._check_pid()
            if self._sandbox is None:
                self._sandbox = get_sandbox(config.sandbox)
            return self._sandbox

    @property
    def marks(self) -> PendingMarks:
        with self._lock:
            self._check_pid()
            if self._marks is None:
                self._marks = PendingMarks(config.broker_url, ttl=config.visibility_timeout)
            return self._marks

    def reset_sandbox(self) -> None:
        with self._lock:
            box, self._sandbox = self._sandbox, None
        if box is not None:
            box.close()

    def close(self) -> None:
        self.reset_sandbox()
        if self._db is not None:
            self._db.dispose()


runtime = _Runtime()
_node = {"name": ""}  # this worker's Celery node name (set before the pool forks, inherited by its processes)


@celeryd_init.connect
def _named(sender=None, **_kwargs) -> None:
    _node["name"] = str(sender or "")


@after_setup_logger.connect
@after_setup_task_logger.connect
def _log_format(logger=None, **_kwargs) -> None:
    use_format(config.log_format, logger)


def process_name() -> str:
    """This pool process in the queue-health view: the Celery node name and the pid."""
    return f"{_node['name'] or os.uname().nodename}/{os.getpid()}"


def _consume(healthy: bool, _problem: str | None) -> None:
    """Start or stop this node's consumption of the grading queue, and wait for the node to confirm."""
    if not _node["name"]:
        return
    control = app.control.add_consumer if healthy else app.control.cancel_consumer
    control(GRADING_QUEUE, destination=[_node["name"]], reply=True, timeout=3)


health = Health(_consume)


def _heartbeat(task_done: bool = False) -> None:
    try:
        queue.beat(runtime.db, process_name(), task_done, healthy=health.healthy, problem=health.problem)
    except sa.exc.SQLAlchemyError as exc:  # a missed beat only makes the dashboard less sure
        log.debug("heartbeat not recorded: %s", exc)


def _watch() -> None:
    """Probe the sandbox at start and, while it is broken, every PROBE_SECONDS; beat all along."""
    first = True
    while True:
        if first or not health.healthy:
            if not first:
                runtime.reset_sandbox()  # a broken one may hold a dead server: start from nothing
            try:
                problem = probe(runtime.sandbox)
            except SandboxUnavailable as exc:
                problem = str(exc)
            health.report(problem)
            first = False
        _heartbeat()
        time.sleep(PROBE_SECONDS if not health.healthy else queue.HEARTBEAT_SECONDS)


@worker_process_init.connect
def _fresh_process(**_kwargs) -> None:
    runtime.pid = None  # dispose what the fork copied from the parent; build our own on first use
    runtime._check_pid()
    # warm and probe the fork server (it imports torch: seconds) without delaying the pool's start-up handshake
    threading.Thread(target=_watch, daemon=True, name="health").start()


@worker_process_shutdown.connect
def _closing(**_kwargs) -> None:
    runtime.close()


def _give_up(task, exc, task_id, args, kwargs, einfo) -> None:
    """The task ended for good. An outage leaves the submission to the reaper; anything else fails it."""
    if isinstance(exc, DATABASE_DOWN):
        log.warning("submission %s: the database stayed unreachable through every retry; the reaper will "
                    "re-send it", args[0])
        return
    try:
        attempts.give_up(runtime.db, int(args[0]), attempts.UNEXPECTED, {"detail": f"{type(exc).__name__}: {exc}"})
    except sa.exc.SQLAlchemyError:
        log.exception("could not mark submission %s failed; the reaper will see it", args[0])


def _add_series(result, spec, report, submission_id: int) -> None:
    """Per-step loss and gradients for the submission page's plots; a failure here never fails grading."""
    try:
        attach_series(result, expected_for(spec, report).run, report, list(spec.model.params))
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as exc:
        log.warning("submission %s: no plot series (%s: %s)", submission_id, type(exc).__name__, exc)


def send_on(submission_id: int) -> None:
    """Put the submission's task back in the queue for another worker (with its pending marker). The row is
    queued already: when the broker does not take the message, the reaper re-sends it (a raise here would end
    the task as a failure, and _give_up would fail the submission for a broker outage)."""
    runtime.marks.mark(submission_id)
    try:
        app.send_task(GRADE_TASK, args=[submission_id])
        runtime.marks.confirm(submission_id)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many types; the row is safe either way
        runtime.marks.clear(submission_id)  # no message waits: the reaper must not wait for the marker to expire
        log.warning("submission %s: could not send it on (%s: %s); the reaper will re-send it", submission_id,
                    type(exc).__name__, exc)


@contextlib.contextmanager
def _lease(claim: attempts.Claim):
    """Renew the attempt's lease every lease_seconds / 3 while the block runs (the sandbox may take minutes)."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(config.lease_seconds / 3):
            try:
                if not attempts.renew(runtime.db, claim):
                    return  # requeued under us: our result will be dropped anyway
            except sa.exc.SQLAlchemyError as exc:
                log.debug("lease of submission %s not renewed: %s", claim.submission_id, exc)

    thread = threading.Thread(target=renew, daemon=True, name=f"lease-{claim.submission_id}")
    thread.start()
    try:
        yield
    finally:
        stop.set()


@app.task(name=GRADE_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, on_failure=_give_up)
def grade(self, submission_id: int, resume: str | None = None) -> str:
    runtime.marks.clear(submission_id)
    if not health.healthy:  # fetched before this node stopped consuming: let a healthy worker have it
        send_on(submission_id)
        return "sent on"
    worker = f"{self.request.hostname or 'worker'}/{os.getpid()}"
    claim = None
    try:
        claim = attempts.claim(runtime.db, int(submission_id), worker, config.max_attempts, config.lease_seconds,
                               resume=resume)
        if claim is None:
            return "nothing to do"
        with _lease(claim), grading_context(claim.submission_id, claim.attempt):
            return _grade(claim, worker)
    except DATABASE_DOWN as exc:
        metrics.RETRIES.labels("database").inc()
        log.warning("submission %s: database unavailable (%s); retry %d of %d", submission_id,
                    type(exc).__name__, self.request.retries + 1, config.retries)
        raise self.retry(exc=exc, args=[submission_id], kwargs={"resume": claim.token if claim else resume},
                         countdown=config.retry_delay(self.request.retries, random.random()),
                         max_retries=config.retries)
    except SoftTimeLimitExceeded as exc:
        metrics.RETRIES.labels("time_limit").inc()
        runtime.reset_sandbox()
        if claim is not None:
            attempts.release(runtime.db, claim, attempts.TIMED_OUT, {"worker": worker, "detail": str(exc)})
        raise self.retry(exc=exc, args=[submission_id], kwargs={},
                         countdown=config.retry_delay(self.request.retries, random.random()),
                         max_retries=config.retries)


def _grade(claim: attempts.Claim, worker: str) -> str:
    submission_id = claim.submission_id
    with runtime.db.session() as session:  # the student's own deadline (an extension), read before the sandbox
        deadline = deadlines.deadline_of_submission(session, submission_id)
    # from here on no session is open: the sandbox may run for minutes
    try:
        spec = parse_spec(claim.spec_yaml, f"assignment {claim.assignment_id}")
    except SpecError as exc:  # the instructor's stored spec: no retry can fix it; a regrade after the fix will
        attempts.give_up(runtime.db, submission_id, attempts.SPEC_BROKEN, {"detail": str(exc)})
        return "spec broken"
    try:
        cached_before = expected_cache_hits()
        result, _report = grade_upload(spec, claim.source, runtime.sandbox, script_name(claim.filename),
                                       claim.notebook, submitted_at=claim.submitted_at)
        metrics.REFERENCE_CACHE.labels("hit" if expected_cache_hits() > cached_before else "miss").inc()
        metrics.observe_run(_report)
    except (SandboxUnavailable, OSError) as exc:
        detail = f"{type(exc).__name__}: {exc}"
        log.warning("submission %s attempt %s: the sandbox failed (%s); sending it to another worker",
                    submission_id, claim.attempt, detail)
        runtime.reset_sandbox()
        attempts.release(runtime.db, claim, attempts.SANDBOX_FAILED, {"worker": worker, "detail": detail})
        metrics.RETRIES.labels("sandbox").inc()
        health.report(detail)  # stop taking tasks (and wait until the node confirms) before re-sending
        _heartbeat()
        send_on(submission_id)
        return "sandbox failed"
    result = lateness.repriced(result, spec.late, claim.submitted_at, deadline)
    _add_series(result, spec, _report, submission_id)
    if attempts.write_result(runtime.db, claim, result):
        log.info("submission %s graded: %s / %s", submission_id, result.score, result.max_score)
        metrics.observe_graded(claim.submitted_at)
        _heartbeat(task_done=True)
        return "graded"
    log.info("submission %s attempt %s finished after a newer attempt started; result dropped",
             submission_id, claim.attempt)
    return "superseded"


@app.task(name=DRY_RUN_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
def dry_run(self, dry_run_id: int) -> str:
    """Grade a spec's solution and mistakes before it is published (`grader assignments check` for one spec,
    on sources the instructor uploaded); the result goes into the dry_runs row the page polls."""
    _heartbeat()
    with runtime.db.session() as session:
        row = session.get(DryRun, int(dry_run_id))
        if row is None or row.status not in ("queued", "running"):
            return "nothing to do"
        row.status = "running"
        spec_yaml, files, assignment_id = row.spec_yaml, dict(row.files or {}), row.assignment_id
    try:
        spec = parse_spec(spec_yaml, f"assignment {assignment_id}")
        mistakes = sorted((name.removeprefix("mistakes/"), src) for name, src in files.items()
                          if name.startswith("mistakes/"))
        checked = check_sources(spec, files.get("solution.py"), mistakes, script_grader(runtime.sandbox))
        result = {"ok": all(f.ok for f in checked), "problems": [], "files": [f.as_dict() for f in checked]}
        status = "done"
    except SpecError as exc:
        # the spec's own problems as records (file, line, field, problem), as the spec pages show them
        result, status = {"ok": False, "problems": [], "spec_problems": [asdict(p) for p in exc.problems],
                          "files": []}, "done"
    except (SandboxUnavailable, OSError, SoftTimeLimitExceeded) as exc:
        runtime.reset_sandbox()
        failed = said("dry_run.sandbox_failed", error=f"{type(exc).__name__}: {exc}")
        result, status = {"ok": False, "problems": [failed], "files": []}, "failed"
    with runtime.db.session() as session:
        row = session.get(DryRun, int(dry_run_id))
        if row is not None:
            row.status, row.result, row.finished_at = status, result, utcnow()
    return status
