"""All service configuration in one object, read from the environment (GRADER_* variables)."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Mapping

from grader.i18n import LANGUAGES, normalize
from grader.source_text import MAX_SOURCE_BYTES

PRODUCTION = "production"
INSECURE_KEYS = {"", "dev", "change-me", "changeme", "secret"}


class ConfigError(ValueError):
    """A setting that cannot work; the message names the variable."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name}: must not be negative, got {value}")
    return value


@dataclass(frozen=True)
class Config:
    """The settings of the web app, the workers and the reaper.

    Time settings obey: sandbox wall clock (≤ 600 s per spec) < task soft limit < task hard limit <
    reaper's running deadline < broker visibility timeout, so a lost task is re-sent by the reaper
    before Redis would redeliver it, and a slow task is never redelivered while it still runs.
    """

    env: str = "development"
    secret_key: str = ""
    database_url: str = "sqlite:///instance/grader.db"
    broker_url: str = "redis://127.0.0.1:6379/0"
    assignments_dir: str = "assignments"
    sandbox: str = "forkserver"
    max_upload_bytes: int = MAX_SOURCE_BYTES  # what the pages accept (requests are capped a little above)
    task_soft_seconds: int = 660
    task_hard_seconds: int = 720
    visibility_timeout: int = 3600
    queued_deadline: int = 120  # a queued submission not picked up after this long is re-sent
    running_deadline: int = 780  # a running submission not finished after this long is re-sent
    max_attempts: int = 5  # attempts that failed on our side before a submission is marked failed
    # a running attempt renews its lease every lease_seconds / 3; one not renewed for lease_seconds is dead
    # (its worker was killed) and is requeued by the reaper within lease_seconds + reaper_interval
    lease_seconds: int = 30
    # retries of a task while the database (or broker) is down: exponential from 2 s, capped at
    # retry_backoff_max, at least half of each delay kept (so ten retries span about nine minutes)
    retry_backoff_max: int = 300
    retries: int = 10
    reaper_interval: int = 30
    worker_concurrency: int = 1
    # the web pages: Flask-Limiter's storage ("" = the broker's Redis; memory:// is for tests only),
    # the shortest time between two submissions of one student, and a per-assignment maximum (0: none)
    ratelimit_storage_url: str = ""
    submit_interval_seconds: int = 10
    # the course default language, for viewers who chose none and whose browser asks for none we speak
    default_language: str = "en"
    max_submissions: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Config":
        env = os.environ if environ is None else environ
        d = cls()
        values = dict(
            env=env.get("GRADER_ENV", d.env),
            secret_key=env.get("GRADER_SECRET_KEY", d.secret_key),
            database_url=env.get("GRADER_DATABASE_URL", d.database_url),
            broker_url=env.get("GRADER_BROKER_URL", d.broker_url),
            assignments_dir=env.get("GRADER_ASSIGNMENTS_DIR", d.assignments_dir),
            sandbox=env.get("GRADER_SANDBOX", d.sandbox),
            ratelimit_storage_url=env.get("GRADER_RATELIMIT_STORAGE_URL", d.ratelimit_storage_url),
            default_language=env.get("GRADER_DEFAULT_LANGUAGE", d.default_language),
        )
        for field in dataclasses.fields(cls):
            if field.type == "int" or field.type is int:
                values[field.name] = _int(env, "GRADER_" + field.name.upper(), getattr(d, field.name))
        values.update(overrides)
        return cls(**values).checked()

    def replace(self, **changes) -> "Config":
        return dataclasses.replace(self, **changes).checked()

    @property
    def production(self) -> bool:
        return self.env == PRODUCTION

    def require_secret_key(self) -> "Config":
        """The web app calls this: production never starts with a missing or guessable key."""
        if self.production and (self.secret_key.strip() in INSECURE_KEYS or len(self.secret_key) < 32):
            raise ConfigError("GRADER_SECRET_KEY: production needs a random secret key of at least 32 "
                              "characters (python -c 'import secrets; print(secrets.token_hex(32))')")
        return self

    def checked(self) -> "Config":
        if not self.task_soft_seconds < self.task_hard_seconds:
            raise ConfigError("GRADER_TASK_SOFT_SECONDS must be below GRADER_TASK_HARD_SECONDS")
        if not self.task_hard_seconds < self.visibility_timeout:
            raise ConfigError("GRADER_VISIBILITY_TIMEOUT must be above GRADER_TASK_HARD_SECONDS: "
                              "Redis would redeliver tasks that are still running")
        if normalize(self.default_language) != self.default_language:
            raise ConfigError(f"GRADER_DEFAULT_LANGUAGE: one of {', '.join(LANGUAGES)}, got {self.default_language!r}")
        if self.max_attempts < 1:
            raise ConfigError("GRADER_MAX_ATTEMPTS must be at least 1")
        if not self.task_hard_seconds < self.running_deadline:
            raise ConfigError(f"GRADER_RUNNING_DEADLINE ({self.running_deadline} s) must be above "
                              f"GRADER_TASK_HARD_SECONDS ({self.task_hard_seconds} s): the reaper would take "
                              "submissions away from attempts that are still allowed to run")
        if not self.running_deadline < self.visibility_timeout:
            raise ConfigError("GRADER_VISIBILITY_TIMEOUT must be above GRADER_RUNNING_DEADLINE: Redis would "
                              "redeliver tasks before the reaper decides they are lost")
        for name in ("queued_deadline", "reaper_interval", "retry_backoff_max"):
            if getattr(self, name) < 1:
                raise ConfigError(f"GRADER_{name.upper()} must be at least 1 second, got {getattr(self, name)}")
        if not 3 <= self.lease_seconds < self.running_deadline:
            raise ConfigError(f"GRADER_LEASE_SECONDS must be at least 3 and below GRADER_RUNNING_DEADLINE "
                              f"({self.running_deadline} s), got {self.lease_seconds}")
        return self

    def retry_delay(self, retries: int, random: float) -> float:
        """Seconds before retry number `retries` + 1: 2 s doubling, capped, jittered by `random` in [0, 1)
        over the upper half only ("equal jitter": full jitter gave 0 s too often and used up every retry
        in seconds while the database was down)."""
        delay = min(float(self.retry_backoff_max), 2.0 * 2 ** retries)
        return delay / 2 + random * delay / 2

    def celery_settings(self) -> dict:
        """Celery settings shared by the sender (web) and the workers; see DESIGN.md, Reliability."""
        transport = {"visibility_timeout": self.visibility_timeout}
        return {
            "broker_url": self.broker_url,
            "broker_transport_options": transport,
            # celery#9339: the result backend reads its own copy of the transport options
            "result_backend_transport_options": transport,
            "broker_connection_retry_on_startup": True,
            "broker_connection_timeout": 5,
            "task_ignore_result": True,  # results live in SQL, not in Redis
            "task_serializer": "json",
            "accept_content": ["json"],
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "task_soft_time_limit": self.task_soft_seconds,
            "task_time_limit": self.task_hard_seconds,
            "task_default_queue": "grading",
            "task_publish_retry": True,
            # a sender must not hang while Redis is down: the submission is committed, the reaper re-sends it
            "task_publish_retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2,
                                          "interval_max": 0.2},
            # a pending marker (grader.service.pending) lasts as long as Redis would keep an unacked message
            "grader_pending_ttl": self.visibility_timeout,
            "worker_hijack_root_logger": False,
            "worker_cancel_long_running_tasks_on_connection_loss": False,
        }
