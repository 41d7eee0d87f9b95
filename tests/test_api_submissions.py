"""The JSON API as a scripted client uses it: submit, poll, read the result; and every refusal as JSON
(401 wrong token, 404 someone else's id, 413 too large, 429 too soon, 403 closed)."""
from __future__ import annotations

import datetime as dt
import io

import pytest

from grader.models import DeadlineExtension, Submission, utcnow
from grader.service import accounts
from service_helpers import ASSIGNMENTS
from web_helpers import SOLUTION, RecordingSender, add_graded, db_of, make_app, set_deadline, user_id

QUAD = "backprop-quadratic"


@pytest.fixture
def api(app):
    with db_of(app).session() as session:
        app.tokens = {name: accounts.issue_token(session, name) for name in ("alice", "wang", "tina")}
    return app


def headers(app, name: str) -> dict:
    return {"Authorization": f"Bearer {app.tokens[name]}"}


def submit(client, hdrs, content: bytes = SOLUTION.encode(), assignment: str = QUAD, filename: str = "hw.py"):
    return client.post("/api/submissions", headers=hdrs, content_type="multipart/form-data",
                       data={"assignment": assignment, "file": (io.BytesIO(content), filename)})


def grade_like_the_worker(app, sid: int) -> None:
    """Write the result the worker would (the worker itself runs in the browser and CLI tests)."""
    from grader.models import CheckResultRow

    with db_of(app).session() as session:
        s = session.get(Submission, sid)
        s.status, s.score, s.max_score, s.finished_at = "graded", 100.0, 100.0, utcnow()
        s.diagnoses, s.stdout_excerpt = [], "Predict (after training) 4 8.5441\n王"
        session.add_all([
            CheckResultRow(submission_id=sid, check_id="runs", position=0, kind="runs", passed=True, points=10,
                           max_points=10, message_code="runs.ok"),
            CheckResultRow(submission_id=sid, check_id="prediction", position=1, kind="predictions", passed=True,
                           points=90, max_points=90, visibility="after_deadline", message_code="predictions.ok"),
        ])


def test_a_scripted_client_submits_polls_and_reads_the_result(api):
    client = api.test_client()
    response = submit(client, headers(api, "wang"), filename="作业.py")
    assert response.status_code == 202
    body = response.json
    assert set(body) == {"id", "status", "url"} and body["status"] == "queued"
    assert response.headers["Location"] == body["url"] == f"/api/submissions/{body['id']}"
    assert api.extensions["grader.sender"].sent == [body["id"]]
    polled = client.get(body["url"], headers=headers(api, "wang")).json
    assert (polled["status"], polled["score"], polled["checks"]) == ("queued", None, [])
    grade_like_the_worker(api, body["id"])
    result = client.get(body["url"], headers=headers(api, "wang")).json
    # the prediction check opens after the deadline: until then only the open points count
    assert (result["status"], result["score"], result["max_score"], result["points_not_shown"],
            result["filename"]) == ("graded", 10.0, 10.0, 90.0, "作业.py")
    runs, prediction = result["checks"]
    assert runs["passed"] is True and "ran to the end" in runs["message"]
    assert prediction["code"] == "check.after_deadline" and "passed" not in prediction
    assert result["stdout"].endswith("王") and result["page"] == f"/submissions/{body['id']}"


def test_an_override_is_said_to_be_set_by_staff_with_its_reason_and_the_graders_open_score(api):
    set_deadline(api, QUAD, utcnow() + dt.timedelta(days=3))
    sid = add_graded(api, "alice", mistake=False)
    client = api.test_client()
    assert client.get(f"/api/submissions/{sid}", headers=headers(api, "alice")).json["override"] is None
    from grader.service import audit

    tina = user_id(api, "tina")
    with db_of(api).session() as session:
        s = session.get(Submission, sid)
        s.score = s.override_score = 90.0
        audit.record(session, tina, "tina", "override", submission_id=sid, reason="oral exam")
    body = client.get(f"/api/submissions/{sid}", headers=headers(api, "alice")).json
    assert (body["score"], body["max_score"], body["points_not_shown"]) == (90.0, 100.0, 0.0)
    # the grader's own score of the checks open to the student: the after_deadline 15 points are not in it
    assert body["override"] == {"set_by_staff": True, "reason": "oral exam", "graders_score": 85.0,
                                "graders_max_score": 85.0, "graders_points_not_shown": 15.0}
    staff = client.get(f"/api/submissions/{sid}", headers=headers(api, "tina")).json["override"]
    assert (staff["graders_score"], staff["graders_points_not_shown"]) == (100.0, 0.0)


def test_wrong_or_missing_tokens_get_401_json(api):
    client = api.test_client()
    for hdrs in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {api.tokens['alice']}"},
                 {"Authorization": "Bearer"}, {"Authorization": "Bearer " + "x" * 5000}):
        for response in (submit(client, hdrs), client.get("/api/submissions/1", headers=hdrs),
                         client.get("/api/assignments", headers=hdrs)):
            assert response.status_code == 401 and response.is_json and "token" in response.json["error"]


def test_other_users_ids_get_404_json_like_missing_ones(api):
    client = api.test_client()
    sid = add_graded(api, "alice")
    assert client.get(f"/api/submissions/{sid}", headers=headers(api, "alice")).status_code == 200
    for url in (f"/api/submissions/{sid}", "/api/submissions/999999"):
        response = client.get(url, headers=headers(api, "wang"))
        assert response.status_code == 404 and response.json == {"error": "no such submission"}
    assert client.get(f"/api/submissions/{sid}", headers=headers(api, "tina")).status_code == 200  # staff see all
    response = client.get("/api/submissions/abc", headers=headers(api, "wang"))
    assert response.status_code == 404 and response.is_json
    assert client.get("/api/nothing-here").is_json


def test_oversized_uploads_get_413_json(api):
    client = api.test_client()
    response = submit(client, headers(api, "alice"), content=b"x" * (400 * 1024))
    assert response.status_code == 413 and response.is_json and "larger than" in response.json["error"]
    response = submit(client, headers(api, "alice"), content=b"x" * (210 * 1024))  # the file over its own cap
    assert response.status_code == 413 and "larger than" in response.json["error"]


def test_the_pages_limits_apply_to_the_api(template_db, tmp_path):
    import shutil

    path = tmp_path / "g.db"
    shutil.copy(template_db, path)
    app = make_app(path, submit_interval_seconds=60, max_submissions=2)
    app.extensions["grader.sender"] = RecordingSender()
    with db_of(app).session() as session:
        token = {"Authorization": f"Bearer {accounts.issue_token(session, 'alice')}"}
    client = app.test_client()
    assert submit(client, token).status_code == 202
    too_soon = submit(client, token)
    assert too_soon.status_code == 429 and "seconds" in too_soon.json["error"]
    assert submit(client, token, filename="notes.txt").status_code == 400
    set_deadline(app, QUAD, utcnow() - dt.timedelta(days=60))
    with db_of(app).session() as session:
        session.query(Submission).delete()
    closed = submit(client, token)
    assert closed.status_code == 403 and "closed" in closed.json["error"]
    app.extensions["grader.db"].dispose()


def test_the_assignment_list_shows_each_users_own_deadline(api):
    client = api.test_client()
    deadline = utcnow() + dt.timedelta(days=1)
    set_deadline(api, QUAD, deadline)
    with db_of(api).session() as session:
        session.add(DeadlineExtension(assignment_id=QUAD, user_id=user_id(api, "wang"),
                                      deadline=deadline + dt.timedelta(days=5), reason="r"))
    mine = {a["id"]: a for a in client.get("/api/assignments", headers=headers(api, "wang")).json["assignments"]}
    theirs = {a["id"]: a for a in client.get("/api/assignments", headers=headers(api, "alice")).json["assignments"]}
    assert dt.datetime.fromisoformat(mine[QUAD]["deadline"]) - dt.datetime.fromisoformat(theirs[QUAD]["deadline"]) \
        == dt.timedelta(days=5)
    assert set(mine) == {p.parent.name for p in ASSIGNMENTS.glob("*/assignment.yaml")}  # every one is published


def test_unpublished_assignments_are_hidden_from_students_in_the_api(api):
    from grader.models import Assignment

    with db_of(api).session() as session:
        session.get(Assignment, "backprop-linear").published = False
    client = api.test_client()
    ids = [a["id"] for a in client.get("/api/assignments", headers=headers(api, "alice")).json["assignments"]]
    assert QUAD in ids and "backprop-linear" not in ids
    assert submit(client, headers(api, "alice"), assignment="backprop-linear").status_code == 400
    staff = [a["id"] for a in client.get("/api/assignments", headers=headers(api, "tina")).json["assignments"]]
    assert "backprop-linear" in staff


def test_the_openapi_description_names_every_api_route(api):
    doc = api.test_client().get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.")
    routes = {r.rule.replace("<int:submission_id>", "{id}") for r in api.url_map.iter_rules()
              if r.rule.startswith("/api/")}
    assert routes == set(doc["paths"])
    post = doc["paths"]["/api/submissions"]["post"]
    assert {"202", "400", "401", "413", "429"} <= set(post["responses"])
    assert doc["paths"]["/api/submissions/{id}"]["get"]["responses"]["404"]
