"""Log lines as people read them, or as JSON lines for a log pipeline (GRADER_LOG_FORMAT=json).

A JSON line carries the time, level, logger, message and, while a grade task runs, the submission's id and
attempt (set by the task through `grading_context`), so one submission's story can be followed across
processes.
"""
from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging

_SUBMISSION: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar("grader_submission", default=None)


@contextlib.contextmanager
def grading_context(submission_id: int, attempt: int):
    """Within the block, every log line names this submission and attempt."""
    token = _SUBMISSION.set((int(submission_id), int(attempt)))
    try:
        yield
    finally:
        _SUBMISSION.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                "process": record.process}
        current = _SUBMISSION.get()
        if current is not None:
            line["submission_id"], line["attempt"] = current
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def use_format(log_format: str, logger: logging.Logger | None = None) -> None:
    """Give every handler of `logger` (default: the root logger) the JSON formatter when asked for."""
    if log_format != "json":
        return
    for handler in (logger or logging.getLogger()).handlers:
        handler.setFormatter(JsonFormatter())
