"""The grade task: claim an attempt, run the sandbox with no database session open, write the result once.

Infrastructure failures (database, broker, sandbox) are retried by Celery with exponential backoff; a
student's failure is a graded result (worker.grading turns it into check results) and never a retry.
"""
from __future__ import annotations

import logging
import os
import threading
import time

import sqlalchemy as sa
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import celeryd_init, worker_process_init, worker_process_shutdown

from grader.db import Database
from grader import lateness
from grader.expected import expected_for
from grader.series import attach_series
from grader.models import DryRun, utcnow
from grader.selfcheck import check_sources
from grader.service import attempts, deadlines, queue
from grader.spec import SpecError, parse_spec
from grader.task_names import DRY_RUN_TASK, GRADE_TASK
from worker.celery_app import app, config
from worker.grading import grade_source, safe_filename, script_grader
from worker.sandbox import SandboxUnavailable, get_sandbox

log = logging.getLogger(__name__)


class InfrastructureError(RuntimeError):
    """Grading could not happen for a reason that is not the student's: retried with backoff."""


class _Runtime:
    """This process's database engine and warm sandbox (neither survives a fork)."""

    def __init__(self):
        self.pid = None
        self._db = None
        self._sandbox = None
        self._lock = threading.Lock()

    def _check_pid(self) -> None:
        if self.pid != os.getpid():
            if self._db is not None:
                self._db.engine.dispose(close=False)  # the parent's connections are not ours to close
            self._db, self._sandbox, self.pid = None, None, os.getpid()

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


def process_name() -> str:
    """This pool process in the queue-health view: the Celery node name and the pid."""
    return f"{_node['name'] or os.uname().nodename}/{os.getpid()}"


def _heartbeat(task_done: bool = False) -> None:
    try:
        queue.beat(runtime.db, process_name(), task_done)
    except sa.exc.SQLAlchemyError as exc:  # a missed beat only makes the dashboard less sure
        log.debug("heartbeat not recorded: %s", exc)


def _heartbeats() -> None:
    while True:
        _heartbeat()
        time.sleep(queue.HEARTBEAT_SECONDS)


@worker_process_init.connect
def _fresh_process(**_kwargs) -> None:
    runtime.pid = None  # dispose what the fork copied from the parent; build our own on first use
    runtime._check_pid()
    # warm the fork server (it imports torch: seconds) without delaying the pool's start-up handshake
    threading.Thread(target=_warm, daemon=True).start()
    threading.Thread(target=_heartbeats, daemon=True, name="heartbeat").start()


def _warm() -> None:
    try:
        box = runtime.sandbox
        if hasattr(box, "start"):
            box.start()
    except Exception as exc:  # noqa: BLE001 - the first task will retry and report it
        log.warning("could not start the sandbox ahead of time: %s", exc)


@worker_process_shutdown.connect
def _closing(**_kwargs) -> None:
    runtime.close()


def _give_up(task, exc, task_id, args, kwargs, einfo) -> None:
    """Retries exhausted (or an unexpected error): the submission is failed, with the reason."""
    try:
        attempts.give_up(runtime.db, int(args[0]), f"grading infrastructure failed: {exc}")
    except sa.exc.SQLAlchemyError:
        log.exception("could not mark submission %s failed; the reaper will see it", args[0])


def _add_series(result, spec, report, submission_id: int) -> None:
    """Per-step loss and gradients for the submission page's plots; a failure here never fails grading."""
    try:
        attach_series(result, expected_for(spec, report).run, report, list(spec.model.params))
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as exc:
        log.warning("submission %s: no plot series (%s: %s)", submission_id, type(exc).__name__, exc)


@app.task(name=GRADE_TASK, bind=True, acks_late=True, reject_on_worker_lost=True,
          autoretry_for=(InfrastructureError, sa.exc.OperationalError, sa.exc.InterfaceError),
          retry_backoff=2, retry_backoff_max=config.retry_backoff_max, retry_jitter=True, max_retries=5,
          on_failure=_give_up)
def grade(self, submission_id: int) -> str:
    _heartbeat()
    claim = attempts.claim(runtime.db, int(submission_id), f"{self.request.hostname or 'worker'}/{os.getpid()}",
                           config.max_attempts)
    if claim is None:
        return "nothing to do"
    with runtime.db.session() as session:  # the student's own deadline (an extension), read before the sandbox
        deadline = deadlines.deadline_of_submission(session, claim.submission_id)
    # from here on no session is open: the sandbox may run for minutes
    try:
        spec = parse_spec(claim.spec_yaml, f"assignment {claim.assignment_id}")
        result, _report = grade_source(spec, claim.source, runtime.sandbox, filename=safe_filename(claim.filename),
                                       submitted_at=claim.submitted_at)
        result = lateness.repriced(result, spec.late, claim.submitted_at, deadline)
    except (SandboxUnavailable, OSError, SoftTimeLimitExceeded, SpecError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        log.warning("submission %s attempt %s: %s; retrying", submission_id, claim.attempt, reason)
        runtime.reset_sandbox()
        attempts.release(runtime.db, claim, reason)
        raise InfrastructureError(reason) from exc
    _add_series(result, spec, _report, submission_id)
    if attempts.write_result(runtime.db, claim, result):
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
        problems, checked = check_sources(spec, files.get("solution.py"), mistakes, script_grader(runtime.sandbox))
        result = {"ok": not problems, "problems": problems, "files": [f.as_dict() for f in checked]}
        status = "done"
    except SpecError as exc:
        result, status = {"ok": False, "problems": exc.lines, "files": []}, "done"
    except (SandboxUnavailable, OSError, SoftTimeLimitExceeded) as exc:
        runtime.reset_sandbox()
        result, status = {"ok": False, "problems": [f"the sandbox failed: {type(exc).__name__}: {exc}"],
                          "files": []}, "failed"
    with runtime.db.session() as session:
        row = session.get(DryRun, int(dry_run_id))
        if row is not None:
            row.status, row.result, row.finished_at = status, result, utcnow()
    return status
