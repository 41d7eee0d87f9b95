"""Nothing lost, nothing failed wrongly (issue 13): real PostgreSQL, Redis and `grader worker` processes under
the faults an operator meets — diverging homework, duplicate deliveries, a worker with a broken sandbox, the
database down for 45 s, a worker's main process SIGKILLed, settings that contradict each other."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from grader.models import Submission, WorkerHeartbeat
from service_helpers import ASSIGNMENTS, ROOT, SOLUTION, free_port, sleeping_solution, wait_for

pytestmark = pytest.mark.slow
GRADER = str(Path(sys.executable).with_name("grader"))
EVERY_SHIPPED_SCRIPT = sorted([*ASSIGNMENTS.glob("*/solution.py"), *ASSIGNMENTS.glob("*/mistakes/*.py")])


def failures(pipe, ids) -> dict[int, tuple]:
    with pipe.db.session() as session:
        return {row.id: (row.error_code, row.error_params) for row in session.execute(
            sa.select(Submission.id, Submission.error_code, Submission.error_params)
            .where(Submission.id.in_(ids), Submission.status == "failed"))}


# homework that goes further than the shipped mistakes: infinities parsed from strings, a NaN loss, output that
# is not text, an exception whose text holds a NUL escape, a lone surrogate and inf
ODD_FEEDBACK = {
    "inf_from_a_string": SOLUTION + 'w.data.fill_(float("1e309"))\n',
    "minus_inf_midway": SOLUTION.replace("0.01 * w.grad.data",
                                         '0.01 * w.grad.data * (float("-1e400") if epoch == 50 else 1)'),
    "nan_loss": SOLUTION.replace("return (y_pred - y)**2", 'return (y_pred - y)**2 * float("nan")'),
    "odd_output": 'import sys\nprint("nul:\\x00:", float("nan"))\nsys.stdout.flush()\n'
                  'sys.stdout.buffer.write(b"\\xed\\xa0\\x80 not utf-8 \\xff\\n")\nsys.stdout.flush()\n' + SOLUTION,
    "odd_exception": SOLUTION + 'raise ValueError(repr(float("1e309")) + " \\x00 \\ud800 " + str([float("nan")]))\n',
}


def test_every_shipped_solution_and_mistake_is_graded_on_postgresql(pg_url, redis_server, pipeline_factory):
    """The shipped mistakes include diverging runs (nan and inf in their feedback); PostgreSQL's json refused them."""
    pipe = pipeline_factory(pg_url, redis_server)
    pipe.worker(concurrency=2)
    ids = {pipe.submit(path.read_text(), i % 20, assignment=path.parents[1].name if path.parent.name == "mistakes"
                       else path.parent.name): path for i, path in enumerate(EVERY_SHIPPED_SCRIPT)}
    assignments = {path.parent.name for path in ASSIGNMENTS.glob("*/assignment.yaml")}
    assert {sid_path.parents[1].name for sid_path in ids.values() if sid_path.parent.name == "mistakes"} == assignments
    odd = {pipe.submit(source, i % 20): name for i, (name, source) in enumerate(ODD_FEEDBACK.items())}
    pipe.wait_graded([*ids, *odd], 300)
    assert failures(pipe, [*ids, *odd]) == {}
    assert set(pipe.statuses(list(odd)).values()) == {"graded"}
    with pipe.db.session() as session:
        subs = {s.id: s for s in session.scalars(sa.select(Submission).where(Submission.id.in_(list(ids))))}
        assert all(s.status == "graded" and s.attempt == 1 and s.checks for s in subs.values())
        for sid, path in ids.items():
            if path.name == "solution.py":
                assert subs[sid].score == subs[sid].max_score, path
            else:
                assert subs[sid].score < subs[sid].max_score, path
        diverged = [s for s in subs.values() if any("nan" in repr(c.message_params) for c in s.checks)]
    assert diverged, "no shipped mistake diverged: this test no longer covers non-finite feedback"


def _broken_docker(tmp_path: Path) -> str:
    """A PATH whose `docker` answers as a client without a daemon does (exit status 125)."""
    bin_dir = tmp_path / "no-daemon-bin"
    bin_dir.mkdir()
    fake = bin_dir / "docker"
    fake.write_text("#!/bin/sh\necho 'docker: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                    "Is the docker daemon running?' >&2\nexit 125\n")
    fake.chmod(0o755)
    return f"{bin_dir}:{os.environ.get('PATH', '')}"


def test_a_worker_with_a_broken_sandbox_beside_a_healthy_one_fails_nothing(pg_url, redis_server, pipeline_factory,
                                                                           tmp_path):
    pipe = pipeline_factory(pg_url, redis_server)
    pipe.reaper()
    broken = pipe.worker("broken", GRADER_SANDBOX="docker", PATH=_broken_docker(tmp_path))
    pipe.worker("healthy")
    ids = [pipe.submit(SOLUTION, i % 20) for i in range(40)]
    pipe.wait_graded(ids, 240)
    assert failures(pipe, ids) == {}
    assert set(pipe.statuses(ids).values()) == {"graded"}
    with pipe.db.session() as session:
        workers = {w.name.split("@")[0]: w for w in session.scalars(sa.select(WorkerHeartbeat))}
        graded_by = set(session.scalars(sa.select(Submission.worker).where(Submission.id.in_(ids))))
    assert workers["broken"].healthy is False and "Docker daemon" in workers["broken"].problem
    assert workers["healthy"].healthy is True
    assert all(name.startswith("healthy@") for name in graded_by)
    assert "taking no tasks" in broken.output()


def test_submissions_failed_for_a_curable_cause_are_graded_once_a_healthy_worker_is_up(pg_url, redis_server,
                                                                                      pipeline_factory):
    """What a broken worker failed before this fix (or an outage exhausted) is graded when a healthy one comes up;
    a failure that no worker can cure (a broken spec) stays failed for staff."""
    import datetime as dt

    from grader.service import attempts

    pipe = pipeline_factory(pg_url, redis_server)
    ids = [pipe.submit(SOLUTION, i) for i in range(4)]
    redis.Redis.from_url(redis_server.url).flushall()  # their messages are long gone
    causes = [attempts.SANDBOX_FAILED, attempts.WORKER_LOST, attempts.INFRASTRUCTURE, attempts.SPEC_BROKEN]
    with pipe.db.session() as session:
        for sid, cause in zip(ids, causes):
            session.execute(sa.update(Submission).where(Submission.id == sid).values(
                status="failed", attempt=5, finished_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5),
                error_code=attempts.ATTEMPTS_EXHAUSTED,
                error_params={"attempts": 5, "cause": cause, "cause_params": {"detail": "docker: no daemon"}}))
    pipe.reaper()
    time.sleep(3)  # no healthy worker yet: nothing is re-queued
    assert set(pipe.statuses(ids).values()) == {"failed"}
    pipe.worker("fixed")
    wait_for(lambda: set(pipe.statuses(ids[:3]).values()) == {"graded"}, 120, "the curable failures to be graded")
    with pipe.db.session() as session:
        subs = {s.id: s for s in session.scalars(sa.select(Submission).where(Submission.id.in_(ids)))}
    assert [(subs[i].status, subs[i].score, subs[i].attempt, subs[i].error_code) for i in ids[:3]] == [
        ("graded", 100, 1, None)] * 3
    assert subs[ids[3]].status == "failed" and subs[ids[3]].error_params["cause"] == attempts.SPEC_BROKEN


def test_the_queue_panel_names_a_worker_whose_sandbox_is_broken(pg_url, redis_server, pipeline_factory, tmp_path):
    from grader.service import accounts
    from grader.web import create_app

    pipe = pipeline_factory(pg_url, redis_server)
    pipe.worker("broken", GRADER_SANDBOX="docker", PATH=_broken_docker(tmp_path))
    wait_for(lambda: _heartbeat_of(pipe, "broken") is False, 60, "the broken worker to say so")
    with pipe.db.session() as session:
        accounts.create_user(session, "tina", "ta", "correct horse 1")
    app = create_app({"database_url": pg_url, "broker_url": redis_server.url, "ratelimit_storage_url": "memory://",
                      "secret_key": "k" * 40})
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/login", data={"username": "tina", "password": "correct horse 1"}).status_code in (200, 302)
    page = client.get("/staff/").get_data(as_text=True)
    assert "takes no tasks: its sandbox cannot run a job" in page and "Docker daemon" in page


def _heartbeat_of(pipe, name: str):
    with pipe.db.session() as session:
        rows = [w for w in session.scalars(sa.select(WorkerHeartbeat)) if w.name.startswith(name + "@")]
    return rows[0].healthy if rows else None


def test_a_sigkilled_worker_main_process_is_noticed_and_its_submission_graded_within_two_minutes(
        pg_url, redis_server, pipeline_factory):
    # a short lease keeps the test short; the default (30 s) plus the default reaper interval is a minute
    pipe = pipeline_factory(pg_url, redis_server, lease_seconds=10, running_deadline=600, visibility_timeout=900)
    pipe.reaper()
    first = pipe.worker("first")
    sid = pipe.submit(sleeping_solution(8))
    wait_for(lambda: pipe.statuses([sid])[sid] == "running", 30, "the worker to start grading")
    os.kill(first.proc.pid, signal.SIGKILL)  # the main process only, as the OOM killer would
    killed_at = time.monotonic()
    for child in _children(first.proc.pid):  # its pool child dies with it (or is orphaned mid-task)
        os.kill(child, signal.SIGKILL)
    pipe.worker("second")
    pipe.wait_graded([sid], 120)
    assert time.monotonic() - killed_at < 120  # lease 10 s + reaper + the 8 s script again, with margin
    with pipe.db.session() as session:
        got = session.get(Submission, sid)
        assert got.status == "graded" and got.score == 100 and got.worker.startswith("second@")
        assert got.attempt == 2 and got.error_code is None


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_the_reaper_never_puts_a_second_copy_of_a_waiting_submission_in_the_queue(pg_url, redis_server,
                                                                                   pipeline_factory):
    pipe = pipeline_factory(pg_url, redis_server, queued_deadline=1)
    ids = [pipe.submit(SOLUTION, i) for i in range(3)]  # no worker: their messages wait in the broker
    pipe.reaper()
    client = redis.Redis.from_url(redis_server.url)
    time.sleep(6)  # several queued deadlines and reaper rounds
    assert client.llen("grading") == 3
    client.flushall()  # the broker loses its data: messages and markers together
    wait_for(lambda: client.llen("grading") == 3, 30, "the reaper to re-send the lost messages")
    time.sleep(4)
    assert client.llen("grading") == 3
    pipe.worker()
    pipe.wait_graded(ids, 60)
    assert set(pipe.statuses(ids).values()) == {"graded"}


def test_sends_while_redis_is_down_do_not_hold_the_request(pg_url, redis_server, pipeline_factory):
    pipe = pipeline_factory(pg_url, redis_server)
    redis_server.stop()
    started = time.monotonic()
    ids = [pipe.submit(SOLUTION, i % 20) for i in range(20)]
    elapsed = time.monotonic() - started
    # each send used to wait ~0.5 s of publish retries (10 s for 20); after the first failure they are skipped
    assert elapsed < 5, f"20 submissions took {elapsed:.1f} s while Redis was down"
    assert set(pipe.statuses(ids).values()) == {"queued"}
    redis_server.start()
    pipe.worker()
    pipe.reaper()
    pipe.wait_graded(ids, 120)
    assert set(pipe.statuses(ids).values()) == {"graded"}


def _post(client, token: str):
    with open(ASSIGNMENTS / "backprop-linear" / "solution.py", "rb") as f:
        started = time.monotonic()
        response = client.post("/api/submissions", headers={"Authorization": f"Bearer {token}"},
                               data={"assignment": "backprop-linear", "file": (f, "hw.py")})
    return response, time.monotonic() - started


@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_a_post_while_redis_is_down_is_answered_at_once_and_left_to_the_reaper(outage, pg_url, redis_server,
                                                                              pipeline_factory):
    """Stopped: connections are refused. Frozen (SIGSTOP, as a hung host or a partition looks): connections
    open and nothing answers; before the sender's socket timeouts each POST waited for Redis (over a minute)."""
    from grader.service import accounts
    from grader.service.pending import PREFIX, UNCONFIRMED_SECONDS
    from grader.web import create_app

    pipe = pipeline_factory(pg_url, redis_server, queued_deadline=1)
    with pipe.db.session() as session:
        token = accounts.issue_token(session, "student00")
    app = create_app({"database_url": pg_url, "broker_url": redis_server.url, "ratelimit_storage_url": "memory://",
                      "submit_interval_seconds": 0})
    client = app.test_client()
    assert _post(client, token)[0].status_code == 202  # the sender's connection is open before the outage
    thaw = threading.Timer(30, os.kill, (redis_server.proc.pid, signal.SIGCONT))  # a hung POST ends, and fails
    if outage == "stopped":
        redis_server.stop()
    else:
        os.kill(redis_server.proc.pid, signal.SIGSTOP)
        thaw.start()
    try:
        answers = [_post(client, token) for _ in range(10)]
    finally:
        thaw.cancel()
        if outage == "stopped":
            redis_server.start()
        else:
            os.kill(redis_server.proc.pid, signal.SIGCONT)
    assert [r.status_code for r, _ in answers] == [202] * 10
    slowest = max(seconds for _, seconds in answers)
    print(f"Redis {outage}: POST took {min(s for _, s in answers):.3f}-{slowest:.3f} s")
    assert slowest < 10, f"a POST waited {slowest:.1f} s for the broker"  # about 1 s at most when frozen
    ids = [r.get_json()["id"] for r, _ in answers]
    assert set(pipe.statuses(ids).values()) == {"queued"}
    client_ = redis.Redis.from_url(redis_server.url)
    # a timed-out marker that Redis carries out once it answers lives UNCONFIRMED_SECONDS, not an hour
    ttls = {i: client_.ttl(f"{PREFIX}{i}") for i in ids}
    assert all(ttl <= UNCONFIRMED_SECONDS for ttl in ttls.values()), ttls
    unmarked = [i for i, ttl in ttls.items() if ttl < 0]
    lost_before = client_.llen("grading")
    pipe.reaper()
    wait_for(lambda: client_.llen("grading") >= lost_before + len(unmarked), 60, "the reaper to re-send them")


def test_a_worker_that_cannot_send_a_submission_on_leaves_it_to_the_reaper(tmp_path):
    """A broken worker gives its submission back and re-sends it; with the broker gone that send must not
    end the task as a failure (which failed the submission for good)."""
    code = ("import logging, sys; logging.basicConfig(stream=sys.stdout)\n"
            "from worker.tasks import send_on\nsend_on(7)\nprint('returned')\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(GRADER_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0",
               GRADER_DATABASE_URL=f"sqlite:///{tmp_path / 'grader.db'}", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0 and "returned" in proc.stdout, proc.stderr[-3000:]
    assert "the reaper will re-send it" in proc.stdout


@pytest.mark.parametrize("settings, phrase", [
    ({"GRADER_RUNNING_DEADLINE": "8"}, "GRADER_RUNNING_DEADLINE (8 s) must be above GRADER_TASK_HARD_SECONDS"),
    ({"GRADER_QUEUED_DEADLINE": "0"}, "GRADER_QUEUED_DEADLINE must be at least 1 second"),
    ({"GRADER_LEASE_SECONDS": "1"}, "GRADER_LEASE_SECONDS must be at least 3"),
])
def test_settings_that_contradict_each_other_are_refused_at_start(settings, phrase):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(settings)
    for command in (["worker"], ["reaper"]):
        proc = subprocess.run([GRADER, *command], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert proc.returncode != 0 and phrase in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_retries_span_a_real_outage():
    import random

    from grader.config import Config

    config = Config()
    rng = random.Random(1)
    delays = [config.retry_delay(n, rng.random()) for n in range(config.retries)]
    assert min(delays) >= 1.0  # never "retry in 0 s"
    assert sum(config.retry_delay(n, 0.0) for n in range(config.retries)) >= 300  # even at the least jitter
    assert max(delays) <= config.retry_backoff_max
