"""The submission lifecycle: accepting an upload, storing it, sending its task, and queueing it again.

Rules, each written only here:
- An upload is accepted when its name ends in .py (any case), it is at most `max_bytes` (the configured upload
  cap, MAX_SOURCE_BYTES by default), it is text in UTF-8 (with or without a BOM) or in GB18030 as Chinese Windows
  editors save it (grader.source_text), it is not blank once decoded, and it holds no NUL character. The page
  and the API apply these checks in this order; `grader grade` all but the name (read_source: it grades the
  files it is given).
- A notebook (.ipynb, any case) is accepted when it is at most NOTEBOOK_MAX_BYTES as uploaded, text as a script
  is, and a notebook by grader.notebook's rules (which count the cap on its code cells). It is stored as uploaded
  (grader.notebook.stored_text) beside its code cells as a script (Upload.source), which every view of the code
  shows; the worker runs the notebook. A .py whose text is a notebook's JSON (a notebook renamed) is taken as the
  notebook it is, under its name ending in .ipynb (accept_script).
- A script is stored, shown and run under one name, script_name(): the upload's base name when the sandbox can
  write it, else "submission.py" ("submission.ipynb" for a notebook).
- A submission is committed before its task is sent: a worker must find the row, and a row whose task was lost
  is re-sent by the reaper (the database is the truth; the broker only carries wake-ups).
- requeue() is the only way a submission goes back to `queued`: with a reason code, a fresh enqueue time, and no
  attempt token (an attempt that outlives its requeue cannot write). A regrade, and a failure retried once a
  healthy worker came up, are new gradings: their attempts start again from zero (a regrade also forgets the
  old failure). The reaper's and a retry's requeues keep the attempts and record the cause.

This module is imported by the web process: it must never import worker.sandbox, worker.tasks or torch.
The grade task is sent by name.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Callable

import sqlalchemy as sa
import sqlalchemy.orm as so
from celery import Celery

from grader.config import Config
from grader.db import Database
from grader.i18n import N_, gettext
from grader.models import Assignment, Submission, User, utcnow
from grader.notebook import (NOTEBOOK_MAX_BYTES, NOTEBOOK_SUFFIX, NotebookError, extracted_code, is_notebook_name,
                             is_notebook_text, read_notebook, stored_text)
from grader.service.pending import PendingMarks
from grader.source_text import MAX_SOURCE_BYTES, decode_script
from grader.task_names import GRADE_TASK

DEFAULT_NAME = "submission.py"
DEFAULT_NOTEBOOK_NAME = "submission.ipynb"
NAME_MAX_BYTES = 255  # the sandbox writes the script under its name: Linux's NAME_MAX counts bytes
NAME_MAX_CHARS = 200  # the column's width
# why a submission went back to the queue, stored as Submission.requeue_reason
REQUEUE_REGRADE = "requeue.regrade"  # staff asked for a new grading (pages, `grader regrade`)
REQUEUE_REAPER = "requeue.reaper"  # stuck in queued or running past its deadline
REQUEUE_RETRY = "requeue.retry"  # an attempt failed on our side and gave the submission back
REQUEUE_RECOVERED = "requeue.recovered"  # failed for a cause a healthy worker may cure, and one came up
REQUEUE_REASONS = (REQUEUE_REGRADE, REQUEUE_REAPER, REQUEUE_RETRY, REQUEUE_RECOVERED)
NEW_GRADING = (REQUEUE_REGRADE, REQUEUE_RECOVERED)  # their attempts start again from zero
log = logging.getLogger(__name__)


class SubmissionError(ValueError):
    """A submission we refuse: an English message (a gettext id) and its parameters, put into words when shown,
    in the reader's language (render)."""

    def __init__(self, text: str, **params):
        self.text, self.params = text, params
        super().__init__(text % params if params else text)

    def render(self, lang: str) -> str:
        return gettext(lang, self.text, **self.params)


class UploadTooLarge(SubmissionError):
    """An upload over its cap: the pages and the API answer it with 413, as when the request itself is too large."""


# how long one send may wait on a broker socket: a Redis that accepts connections but never answers (frozen,
# or cut off by a partition) would otherwise hold the sender — a web request, the reaper — for minutes
SEND_TIMEOUT_SECONDS = 1.0


def sender_app(config: Config) -> Celery:
    """A Celery app that only sends (no task module imported), with the workers' broker settings and short
    socket timeouts (SEND_TIMEOUT_SECONDS): a send that cannot finish at once is left to the reaper."""
    app = Celery("grader-sender", set_as_current=False)
    settings = config.celery_settings()
    settings["broker_transport_options"] = {**settings["broker_transport_options"],
                                            "socket_timeout": SEND_TIMEOUT_SECONDS,
                                            "socket_connect_timeout": SEND_TIMEOUT_SECONDS}
    app.conf.update(settings)
    return app


@dataclass
class Sender:
    """Sends grade tasks by name. A send that fails is logged, not raised: the reaper re-sends it.

    The commit is the promise, so a send never holds a request for long: every broker socket times out after
    SEND_TIMEOUT_SECONDS (sender_app), a send whose pending marker (grader.service.pending) Redis did not take
    is not tried further, and after a failed send, sends are skipped for `pause_seconds` (the broker is down;
    each would wait for its own timeouts) and left to the reaper."""

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
        marked = False
        try:
            marked = self.marks.mark(submission_id)
            if not marked:  # its Redis did not answer: neither would the publish
                raise ConnectionError("the broker's Redis did not take the pending marker")
            self.app.send_task(GRADE_TASK, args=[submission_id])
            self.marks.confirm(submission_id)
            return True
        except Exception as exc:  # noqa: BLE001 - kombu/redis raise many types; the row is safe either way
            self._failed_at = time.monotonic()
            if marked:  # no message waits: the reaper must not wait for the marker to expire
                self.marks.clear(submission_id)
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


@dataclass(frozen=True)
class Upload:
    """An accepted script: its text (always stored as UTF-8), the name it is stored and run under, and the
    encoding it arrived in (grader.source_text.UTF8 or GB18030, which the page tells the student about).
    For a notebook, `source` is its code cells as a script and `notebook` the notebook as stored."""

    source: str
    filename: str
    encoding: str
    notebook: str | None = None


def script_name(name: str | None) -> str:
    """The name a script is stored, shown and run under: the base name of what the student uploaded
    (Unicode NFC, since a Mac writes "é" as two characters), when it ends in .py, does not start with a dot,
    holds only printable characters and fits the file system; else "submission.py"."""
    base = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    default = DEFAULT_NOTEBOOK_NAME if is_notebook_name(base) else DEFAULT_NAME
    if (not (base.lower().endswith(".py") or is_notebook_name(base)) or base.startswith(".") or not base.isprintable()
            or len(base) > NAME_MAX_CHARS or len(base.encode("utf-8")) > NAME_MAX_BYTES):
        return default
    return base


def upload_limit(filename: str | None, max_bytes: int) -> int:
    """How many bytes of an upload to read: a notebook's outputs and images may be far larger than its code."""
    return largest_upload(max_bytes) if is_notebook_name(filename) else max_bytes


def largest_upload(max_bytes: int) -> int:
    """The largest file an upload request may carry: a notebook's, or the script cap when it is larger."""
    return max(max_bytes, NOTEBOOK_MAX_BYTES)


def read_source(data: bytes, max_bytes: int = MAX_SOURCE_BYTES) -> tuple[str, str]:
    """(text, encoding) of a script's bytes; SubmissionError when it is too large, not text, blank or holds NUL."""
    if len(data) > max_bytes:
        raise UploadTooLarge(N_("The file is larger than %(kb)s KB; a homework script is a few KB."),
                              kb=max_bytes // 1024)
    try:
        source, encoding = decode_script(data)
    except UnicodeDecodeError as exc:
        raise SubmissionError(N_("The file is not UTF-8 text (the byte at position %(pos)s is not valid UTF-8). "
                                 "Save it as UTF-8 and try again."), pos=exc.start) from None
    if not source.strip():
        raise SubmissionError(N_("The file is empty."))
    if "\x00" in source:
        raise SubmissionError(N_("The file contains a NUL byte, so it is not a Python script."))
    return source, encoding


def accept(data: bytes, filename: str | None, max_bytes: int = MAX_SOURCE_BYTES) -> Upload:
    """An uploaded script as we store it, or SubmissionError saying what is wrong with it (module rules)."""
    shown = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    if is_notebook_name(shown):
        return accept_notebook(data, script_name(shown), max_bytes)
    if not shown.lower().endswith(".py"):
        raise SubmissionError(N_("Only Python files (.py) and Jupyter notebooks (.ipynb) are accepted; %(name)s is "
                                 "neither."), name=shown.replace("\x00", "")[:NAME_MAX_CHARS])
    return accept_script(data, script_name(shown), max_bytes)


def accept_script(data: bytes, filename: str, max_bytes: int = MAX_SOURCE_BYTES) -> Upload:
    """An uploaded script as we store it (module rules: a notebook renamed .py is the notebook), or SubmissionError."""
    source, encoding = read_source(data, max_bytes)
    if is_notebook_text(source):
        return accept_notebook(data, script_name(filename.rsplit(".", 1)[0] + NOTEBOOK_SUFFIX), max_bytes)
    return Upload(source, filename, encoding)


def accept_notebook(data: bytes, filename: str, max_bytes: int = MAX_SOURCE_BYTES) -> Upload:
    """An uploaded notebook as we store it (module rules), or SubmissionError."""
    text, encoding = read_source(data, upload_limit(filename, max_bytes))
    try:
        notebook = read_notebook(text, max_bytes)
    except NotebookError as exc:
        raise (UploadTooLarge if exc.too_large else SubmissionError)(exc.text, **exc.params) from None
    return Upload(extracted_code(notebook), filename, encoding, stored_text(text, max_bytes))


def store(session: so.Session, user: User, assignment_id: str, source: str, filename: str,
          now: dt.datetime | None = None, notebook: str | None = None) -> Submission:
    """Insert a queued submission (not committed). SubmissionError for an unknown or unpublished assignment."""
    assignment = session.get(Assignment, assignment_id) if isinstance(assignment_id, str) else None
    if assignment is None or (not assignment.published and user.role == "student"):
        raise SubmissionError("unknown assignment %(id)s", id=repr(assignment_id))  # for programs: pages 404 first
    now = now or utcnow()
    submission = Submission(user_id=user.id, assignment_id=assignment.id, assignment_version=assignment.version,
                            source=source, sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(),
                            filename=script_name(filename), notebook=notebook, submitted_at=now, enqueued_at=now,
                            status="queued", attempt=0)
    session.add(submission)
    session.flush()
    return submission


def enqueue(session: so.Session, user: User, assignment_id: str, upload: Upload,
            send: Callable[[int], bool]) -> Submission:
    """Store an accepted upload and COMMIT, then send its grade task (the order is the module's rule)."""
    submission = store(session, user, assignment_id, upload.source, upload.filename, notebook=upload.notebook)
    session.commit()
    send(submission.id)
    return submission


def submit(db: Database, send: Callable[[int], bool], user_id: int, assignment_id: str, source: str,
           filename: str = DEFAULT_NAME, notebook: str | None = None) -> Submission:
    """Store and COMMIT in a session of its own, then send: enqueue() for the service's own tools and tests,
    whose source was read already."""
    with db.session() as session:
        user = session.get(User, user_id)
        if user is None:
            raise SubmissionError("no user with id %(id)s", id=user_id)
        submission = store(session, user, assignment_id, source, filename, notebook=notebook)
    send(submission.id)
    return submission


def requeue(session: so.Session, ids: list[int], reason: str, *, cause: tuple[str, dict] | None = None,
            token: str | None = None, now: dt.datetime | None = None) -> int:
    """Queue these submissions again (the caller commits, then sends each id); how many rows changed.

    `reason` is one of REQUEUE_REASONS and is stored as the row's requeue_reason. Every requeue clears the
    attempt token, the lease and the finish time. A new grading (a regrade, a recovered failure) starts its
    attempts from zero; a regrade also forgets the old failure, while a recovered one keeps it for staff until
    it is graded. `cause`: the failure on our side that sent it back, as (code, parameters) (the reaper's lost
    worker, a retry). `token`: only while that attempt is still the current one (a retry gives back its own
    attempt, never a newer one)."""
    if reason not in REQUEUE_REASONS:
        raise ValueError(f"unknown requeue reason {reason!r} (one of {', '.join(REQUEUE_REASONS)})")
    if not ids:
        return 0
    values: dict = {"status": "queued", "enqueued_at": now or utcnow(), "attempt_token": None, "alive_at": None,
                    "finished_at": None, "requeue_reason": reason}
    if reason in NEW_GRADING:
        values["attempt"] = 0
    if reason == REQUEUE_REGRADE:
        values.update(error=None, error_code=None, error_params=None)
    if cause is not None:
        values["error_code"], values["error_params"] = cause
    query = sa.update(Submission).where(Submission.id.in_(ids))
    if token is not None:
        query = query.where(Submission.attempt_token == token)
    return session.execute(query.values(**values)).rowcount
