"""The grade task: claim an attempt, run the sandbox with no database session open, write the result once.

Infrastructure failures (database, broker, sandbox) are retried by Celery with exponential backoff; a
student's failure is a graded result (grader.grading turns it into check results) and never a retry.
"""
from __future__ import annotations

import logging
import os
import threading

import sqlalchemy as sa
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init, worker_process_shutdown

from grader.db import Database
from grader.grading import grade_source, reference_for, safe_filename
from grader.series import attach_series
from grader.service import attempts
from grader.spec import SpecError, parse_spec
from worker.celery_app import app, config
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


@worker_process_init.connect
def _fresh_process(**_kwargs) -> None:
    runtime.pid = None  # dispose what the fork copied from the parent; build our own on first use
    runtime._check_pid()
    # warm the fork server (it imports torch: seconds) without delaying the pool's start-up handshake
    threading.Thread(target=_warm, daemon=True).start()


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
        attach_series(result, reference_for(spec).run, report, list(spec.model.params))
    except (ValueError, TypeError, KeyError, IndexError, ArithmeticError) as exc:
        log.warning("submission %s: no plot series (%s: %s)", submission_id, type(exc).__name__, exc)


@app.task(name="grader.grade", bind=True, acks_late=True, reject_on_worker_lost=True,
          autoretry_for=(InfrastructureError, sa.exc.OperationalError, sa.exc.InterfaceError),
          retry_backoff=2, retry_backoff_max=config.retry_backoff_max, retry_jitter=True, max_retries=5,
          on_failure=_give_up)
def grade(self, submission_id: int) -> str:
    claim = attempts.claim(runtime.db, int(submission_id), self.request.hostname or "worker", config.max_attempts)
    if claim is None:
        return "nothing to do"
    # from here on no session is open: the sandbox may run for minutes
    try:
        spec = parse_spec(claim.spec_yaml, f"assignment {claim.assignment_id}")
        result, _report = grade_source(spec, claim.source, runtime.sandbox, filename=safe_filename(claim.filename),
                                       submitted_at=claim.submitted_at)
    except (SandboxUnavailable, OSError, SoftTimeLimitExceeded, SpecError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        log.warning("submission %s attempt %s: %s; retrying", submission_id, claim.attempt, reason)
        runtime.reset_sandbox()
        attempts.release(runtime.db, claim, reason)
        raise InfrastructureError(reason) from exc
    _add_series(result, spec, _report, submission_id)
    if attempts.write_result(runtime.db, claim, result):
        return "graded"
    log.info("submission %s attempt %s finished after a newer attempt started; result dropped",
             submission_id, claim.attempt)
    return "superseded"
