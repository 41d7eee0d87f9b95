"""The database down for 45 s (issue 13), apart from tests/test_faults.py so that make test (--dist loadfile) runs
its long outage beside that module's other faults: a PostgreSQL cluster of the test's own is stopped and started
again, and nothing is lost, nothing failed, the API answers 503 and `grader submit` waits the outage out."""
from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest
import sqlalchemy as sa

from grader.models import Submission
from service_helpers import ASSIGNMENTS, SOLUTION, PostgresServer, free_port, sleeping_solution, wait_for
from test_faults import GRADER, failures

pytestmark = pytest.mark.slow


@pytest.fixture
def own_postgres():
    """A PostgreSQL cluster of this test's own, to be stopped and started again."""
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def test_postgresql_down_for_45_seconds_fails_nothing_and_the_api_answers_503(own_postgres, redis_server,
                                                                             pipeline_factory, tmp_path):
    from grader.service import accounts
    from grader.web import create_app

    name = own_postgres.create_database()
    url = own_postgres.url(name)
    pipe = pipeline_factory(url, redis_server)
    pipe.worker()
    pipe.reaper()
    with pipe.db.session() as session:
        token = accounts.issue_token(session, "student00")
    app = create_app({"database_url": url, "broker_url": redis_server.url, "ratelimit_storage_url": "memory://"})
    client = app.test_client()
    ids = [pipe.submit(sleeping_solution(1) if i < 3 else SOLUTION, i % 20) for i in range(8)]
    wait_for(lambda: "running" in pipe.statuses(ids).values(), 60, "grading to start")
    own_postgres.halt("fast")
    try:
        down_since = time.monotonic()
        response = client.post("/api/submissions", headers={"Authorization": f"Bearer {token}"},
                               data={"assignment": "backprop-linear", "file": (open(ASSIGNMENTS / "backprop-linear"
                                                                                    / "solution.py", "rb"), "hw.py")})
        assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
        assert "Traceback" not in response.get_data(as_text=True) and response.get_json()["error"]
        assert client.get("/api/submissions/1", headers={"Authorization": f"Bearer {token}"}).status_code == 503
        assert client.get("/login").status_code in (200, 503)  # a page that needs no database may still answer
        answered = []
        while time.monotonic() - down_since < 45:  # and so on for the whole outage
            got = client.get("/api/submissions/1", headers={"Authorization": f"Bearer {token}"})
            answered.append((got.status_code, got.headers.get("Retry-After")))
            time.sleep(3)
    finally:
        own_postgres.resume()
    assert len(answered) >= 10 and set(answered) == {(503, "30")}, answered
    pipe.wait_graded(ids, 240)
    assert failures(pipe, ids) == {}
    assert set(pipe.statuses(ids).values()) == {"graded"}


def test_grader_submit_waits_out_a_503_and_then_submits(own_postgres, redis_server, pipeline_factory):
    from werkzeug.serving import make_server

    from grader.service import accounts
    from grader.web import create_app

    name = own_postgres.create_database()
    url = own_postgres.url(name)
    pipe = pipeline_factory(url, redis_server)
    with pipe.db.session() as session:
        token = accounts.issue_token(session, "student00")
    app = create_app({"database_url": url, "broker_url": redis_server.url, "ratelimit_storage_url": "memory://"})
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    own_postgres.halt("immediate")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        proc = subprocess.Popen([GRADER, "submit", str(ASSIGNMENTS / "backprop-linear" / "solution.py"),
                                 "--assignment", "backprop-linear", "--server", f"http://127.0.0.1:{port}",
                                 "--token", token], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # resume once it has been told to wait (a fixed 4 s sleep raced its start-up on a loaded host)
        told: list[str] = []
        reader = threading.Thread(target=lambda: told.extend(iter(proc.stderr.readline, "")), daemon=True)
        reader.start()
        wait_for(lambda: any("briefly unavailable" in line for line in told), 60, "grader submit's 503 wait")
        assert proc.poll() is None  # still waiting for the database to come back
        own_postgres.resume()
        out, rest = proc.communicate(timeout=60)  # the reader thread may have taken part of stderr, or all of it
        reader.join(10)
        err = "".join(told) + (rest or "")
    finally:
        server.shutdown()
    assert proc.returncode == 0, err
    assert "briefly unavailable" in err and "submitted #" in out
    with pipe.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 1


def test_a_task_that_gives_up_while_the_database_is_down_leaves_its_submission_to_the_reaper(
        own_postgres, redis_server, pipeline_factory):
    name = own_postgres.create_database()
    pipe = pipeline_factory(own_postgres.url(name), redis_server, retries=2, retry_backoff_max=1)
    worker = pipe.worker()
    sid = pipe.submit(sleeping_solution(3))
    wait_for(lambda: pipe.statuses([sid])[sid] == "running", 60, "grading to start")
    own_postgres.halt("fast")
    try:
        wait_for(lambda: "stayed unreachable through every retry" in worker.output(), 60, "the task to give up")
    finally:
        own_postgres.resume()
    assert pipe.statuses([sid])[sid] == "running"  # not failed: the reaper's to re-send
    pipe.reaper()
    pipe.wait_graded([sid], 120)
    with pipe.db.session() as session:
        got = session.get(Submission, sid)
        assert (got.status, got.score, got.error_code) == ("graded", 100, None) and got.attempt == 2
