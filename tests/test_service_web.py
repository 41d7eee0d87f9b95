"""The web app factory and its JSON API: token auth, upload, status, who may see what."""
from __future__ import annotations

import io
import shutil
import subprocess
import sys

import pytest
import redis

from grader.config import ConfigError
from grader.models import CheckResultRow, Submission
from grader.service import accounts
from grader.web import create_app
from service_helpers import ROOT, SOLUTION
from web_helpers import db_of, make_app


@pytest.fixture
def app(template_db, tmp_path, redis_server):
    """The course's app (tests/conftest.py) with a real broker: an upload must reach Redis."""
    path = tmp_path / "grader.db"
    shutil.copy(template_db, path)
    app = make_app(path, sender=False, broker_url=redis_server.url)
    with db_of(app).session() as session:
        app.tokens = {name: accounts.issue_token(session, name) for name in ("alice", "bob", "tina")}
    yield app
    db_of(app).dispose()


def auth(app, name):
    return {"Authorization": f"Bearer {app.tokens[name]}"}


def upload(client, headers, content=SOLUTION.encode(), assignment="backprop-linear", filename="hw.py"):
    data = {"assignment": assignment, "file": (io.BytesIO(content), filename)}
    return client.post("/api/submissions", data=data, headers=headers, content_type="multipart/form-data")


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "broker": "ok"}


def test_an_upload_is_stored_queued_and_sent_to_the_broker(app, client, redis_server):
    response = upload(client, auth(app, "alice"))
    assert response.status_code == 202
    body = response.json
    assert body["status"] == "queued" and body["url"] == f"/api/submissions/{body['id']}"
    with app.extensions["grader.db"].session() as session:
        row = session.get(Submission, body["id"])
        assert row.source == SOLUTION and row.filename == "hw.py" and row.status == "queued"
    assert redis.Redis.from_url(redis_server.url).llen("grading") == 1


def test_requests_without_a_valid_token_are_refused(app, client):
    assert upload(client, {}).status_code == 401
    assert upload(client, {"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/api/submissions/1", headers={"Authorization": "Basic abc"}).status_code == 401


@pytest.mark.parametrize("kwargs, status, phrase", [
    ({"assignment": "no-such-thing"}, 400, "unknown assignment"),
    ({"content": b"\xff\xfe bad"}, 400, "not UTF-8"),
    ({"content": b"   "}, 400, "empty"),
    ({"content": b"x" * (400 * 1024)}, 413, "larger than"),
    ({"content": b"x" * (210 * 1024)}, 413, "larger than"),  # a file over its own cap, as a request over it
    ({"assignment": ""}, 400, "assignment"),
])
def test_bad_uploads_get_a_clear_json_error(app, client, kwargs, status, phrase):
    response = upload(client, auth(app, "alice"), **kwargs)
    assert response.status_code == status
    assert phrase in response.json["error"]


def test_a_student_sees_only_their_own_submissions(app, client):
    sid = upload(client, auth(app, "alice")).json["id"]
    assert client.get(f"/api/submissions/{sid}", headers=auth(app, "alice")).status_code == 200
    assert client.get(f"/api/submissions/{sid}", headers=auth(app, "bob")).status_code == 404
    assert client.get(f"/api/submissions/{sid + 99}", headers=auth(app, "alice")).status_code == 404
    assert client.get(f"/api/submissions/{sid}", headers=auth(app, "tina")).status_code == 200


def test_hidden_checks_stay_hidden_from_students_but_not_from_staff(app, client):
    sid = upload(client, auth(app, "alice")).json["id"]
    with app.extensions["grader.db"].session() as session:
        sub = session.get(Submission, sid)
        sub.status, sub.score, sub.max_score = "graded", 10.0, 20.0
        session.add_all([
            CheckResultRow(submission_id=sid, check_id="runs", position=0, kind="runs", passed=True, points=10,
                           max_points=10, message_code="runs.ok"),
            CheckResultRow(submission_id=sid, check_id="secret", position=1, kind="final_params", passed=False,
                           points=0, max_points=10, visibility="hidden", message_code="final_params.mismatch",
                           message_params={"param": "w", "expected": 2.0, "got": 1.0}),
        ])
    student = client.get(f"/api/submissions/{sid}", headers=auth(app, "alice")).json
    assert student["status"] == "graded" and student["score"] == 10.0
    runs, secret = student["checks"]
    assert runs["passed"] is True and "ran to the end" in runs["message"]
    assert "passed" not in secret and secret["code"] == "check.hidden" and "2" not in secret["message"]
    staff = client.get(f"/api/submissions/{sid}", headers=auth(app, "tina")).json
    assert staff["checks"][1]["passed"] is False and "should be 2" in staff["checks"][1]["message"]


def test_production_refuses_to_start_without_a_real_secret_key(sqlite_url):
    with pytest.raises(ConfigError, match="GRADER_SECRET_KEY"):
        create_app({"env": "production", "database_url": sqlite_url})
    with pytest.raises(ConfigError, match="GRADER_SECRET_KEY"):
        create_app({"env": "production", "database_url": sqlite_url, "secret_key": "dev"})


def test_the_web_process_never_imports_the_sandbox_or_torch(sqlite_url):
    code = ("import sys; from grader.web import create_app; import grader.web.api, grader.submissions;"
            f"create_app({{'database_url': {sqlite_url!r}}});"
            "bad = sorted(m for m in sys.modules if m.startswith(('worker', 'torch')));"
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
