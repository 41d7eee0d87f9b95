"""The Celery app of the grading workers: our settings (DESIGN.md, Reliability) and the task module.

Run with `grader worker` (or `celery -A worker.celery_app worker`). Configuration comes from GRADER_*
variables (grader/config.py).
"""
from __future__ import annotations

from celery import Celery

from grader.config import Config

config = Config.from_env()

app = Celery("grader", include=["worker.tasks"])
app.conf.update(config.celery_settings())
app.conf.update(worker_concurrency=config.worker_concurrency,
                # a worker that lost Redis keeps reconnecting; messages it held are redelivered after
                # visibility_timeout, and the reaper re-sends whatever the database still shows unfinished
                broker_connection_max_retries=None)
