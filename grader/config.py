"""All service configuration in one object, read from the environment (GRADER_* variables)."""
from __future__ import annotations

import contextvars
import ipaddress
from pathlib import Path
from typing import Mapping

from pydantic import NonNegativeInt, PositiveInt, ValidationError, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from grader.i18n import LANGUAGES, normalize
from grader.source_text import MAX_SOURCE_BYTES

PRODUCTION = "production"
INSECURE_KEYS = {"", "dev", "change-me", "changeme", "secret"}
PREFIX = "GRADER_"
# the environment from_env() reads when it is given one (a child process's, a test's) instead of os.environ
_ENVIRON: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar("grader_environ", default=None)


DATA_DIR = "instance"  # `grader up`'s data folder when none is named


def database_url_in(data_dir: str | Path) -> str:
    """The database of a data folder (`grader up --data-dir`, GRADER_DATA_DIR): its grader.db, found by its absolute
    path, so every command and process that names the folder opens the same file."""
    return f"sqlite:///{Path(data_dir).resolve() / 'grader.db'}"


class ConfigError(ValueError):
    """A setting that cannot work; the message names the variable."""


class _GivenEnvironment(EnvSettingsSource):
    """GRADER_* variables from a given mapping instead of os.environ."""

    def __init__(self, settings_cls, environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in self._environ.items() if value != ""}  # "": the default


class Config(BaseSettings):
    """The settings of the web app, the workers and the reaper: GRADER_<FIELD> variables (pydantic-settings).

    Time settings obey: sandbox wall clock (≤ 600 s per spec) < task soft limit < task hard limit <
    reaper's running deadline < broker visibility timeout, so a lost task is re-sent by the reaper
    before Redis would redeliver it, and a slow task is never redelivered while it still runs.
    """

    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True, extra="ignore", env_ignore_empty=True)

    env: str = "development"
    secret_key: str = ""
    # the database: GRADER_DATABASE_URL, else the data folder's grader.db (database_url_in); the folder is
    # GRADER_DATA_DIR, else `instance` in the working directory, as for `grader up`
    data_dir: str = DATA_DIR
    database_url: str = ""
    broker_url: str = "redis://127.0.0.1:6379/0"
    assignments_dir: str = "assignments"
    sandbox: str = "forkserver"
    max_upload_bytes: NonNegativeInt = MAX_SOURCE_BYTES  # what the pages accept (requests are capped a little above)
    task_soft_seconds: NonNegativeInt = 660
    task_hard_seconds: NonNegativeInt = 720
    visibility_timeout: NonNegativeInt = 3600
    queued_deadline: NonNegativeInt = 120  # a queued submission not picked up after this long is re-sent
    running_deadline: NonNegativeInt = 780  # a running submission not finished after this long is re-sent
    max_attempts: NonNegativeInt = 5  # attempts that failed on our side before a submission is marked failed
    # a running attempt renews its lease every lease_seconds / 3; one not renewed for lease_seconds is dead
    # (its worker was killed) and is requeued by the reaper within lease_seconds + reaper_interval
    lease_seconds: NonNegativeInt = 30
    # retries of a task while the database (or broker) is down: exponential from 2 s, capped at
    # retry_backoff_max, at least half of each delay kept (so ten retries span about nine minutes)
    retry_backoff_max: NonNegativeInt = 300
    retries: NonNegativeInt = 10
    reaper_interval: NonNegativeInt = 30
    worker_concurrency: NonNegativeInt = 1
    # the web pages: Flask-Limiter's storage ("" = the broker's Redis; memory:// is for tests only),
    # the shortest time between two submissions of one student, and a per-assignment maximum (0: none)
    ratelimit_storage_url: str = ""
    submit_interval_seconds: NonNegativeInt = 10
    # the course default language, for viewers who chose none and whose browser asks for none we speak
    default_language: str = "en"
    max_submissions: NonNegativeInt = 0
    # /metrics (Prometheus): answered to these addresses or networks (comma-separated), or to this bearer token
    metrics_allow: str = "127.0.0.1,::1"
    metrics_token: str = ""
    log_format: str = "text"  # or "json": one JSON object per line (grader.logs)
    # how many proxies in front of the web app append to X-Forwarded-For / set X-Forwarded-Proto (Werkzeug's
    # ProxyFix trusts exactly that many; 0: none, the client is the connection's address). Too many lets a
    # client choose its own address for the login limits.
    proxy_hops: NonNegativeInt = 0
    # a session ends this long after its login (and at once on logout or a new password)
    session_hours: PositiveInt = 12

    @model_validator(mode="before")
    @classmethod
    def _database_in_data_dir(cls, values):
        if isinstance(values, dict) and not values.get("database_url"):
            values = {**values, "database_url": database_url_in(values.get("data_dir") or DATA_DIR)}
        return values

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        given = _ENVIRON.get()
        return (init_settings, env_settings if given is None else _GivenEnvironment(settings_cls, given))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Config":
        """The settings from `environ` (default: os.environ), `overrides` winning; ConfigError names a bad one."""
        token = _ENVIRON.set(environ)
        try:
            return cls(**overrides).checked()
        except ValidationError as exc:
            raise ConfigError(_first_problem(exc)) from None
        finally:
            _ENVIRON.reset(token)

    def replace(self, **changes) -> "Config":
        try:
            return type(self)(**{**self.model_dump(), **changes}).checked()
        except ValidationError as exc:
            raise ConfigError(_first_problem(exc)) from None

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
        if self.log_format not in ("text", "json"):
            raise ConfigError(f"GRADER_LOG_FORMAT: text or json, got {self.log_format!r}")
        try:
            self.metrics_networks()
        except ValueError as exc:
            raise ConfigError(f"GRADER_METRICS_ALLOW: {exc}") from None
        if not 3 <= self.lease_seconds < self.running_deadline:
            raise ConfigError(f"GRADER_LEASE_SECONDS must be at least 3 and below GRADER_RUNNING_DEADLINE "
                              f"({self.running_deadline} s), got {self.lease_seconds}")
        return self

    def metrics_networks(self) -> list:
        """GRADER_METRICS_ALLOW as networks (a bare address is a network of one)."""
        return [ipaddress.ip_network(item.strip(), strict=False) for item in self.metrics_allow.split(",")
                if item.strip()]

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
            # Celery's task events, so Flower (or `celery events`) can watch the workers
            "worker_send_task_events": True,
            "task_send_sent_event": True,
            "worker_cancel_long_running_tasks_on_connection_loss": False,
        }


def _first_problem(exc: ValidationError) -> str:
    """One line naming the variable: "GRADER_QUEUED_DEADLINE: expected a whole number, got 'soon'"."""
    error = exc.errors()[0]
    name = PREFIX + str(error["loc"][0]).upper() if error.get("loc") else PREFIX + "?"
    if error["type"] == "greater_than_equal":
        return f"{name}: must not be negative, got {error.get('input')}"
    if error["type"].startswith("int_"):
        return f"{name}: expected a whole number, got {error.get('input')!r}"
    return f"{name}: {error['msg']}"
