"""The upload form: what is accepted, and a clear message on the form for everything that is refused."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest

from grader.models import Submission, utcnow
from web_helpers import SOLUTION, csrf_from, db_of, login, make_app, set_deadline, upload


def submissions(app) -> list[Submission]:
    with db_of(app).session() as session:
        return list(session.query(Submission).order_by(Submission.id))


def test_an_uploaded_file_is_stored_committed_and_sent(app, client):
    login(client)
    response = upload(client, content=SOLUTION.encode(), filename="my_hw.py")
    assert response.status_code == 302
    [row] = submissions(app)
    assert response.headers["Location"] == f"/submissions/{row.id}"
    assert row.source == SOLUTION and row.filename == "my_hw.py" and row.status == "queued"
    assert app.extensions["grader.sender"].sent == [row.id]


def test_pasted_code_is_accepted_with_unix_newlines(app, client):
    login(client)
    assert upload(client, code="print('hi')\r\nprint(2)\r\n").status_code == 302
    [row] = submissions(app)
    assert row.source == "print('hi')\nprint(2)\n" and row.filename == "pasted.py"


def test_a_chinese_file_name_and_source_round_trip(app, client):
    login(client)
    source = "# 反向传播\nprint('梯度')\n"
    assert upload(client, content=source.encode(), filename="作业.py").status_code == 302
    [row] = submissions(app)
    assert row.source == source and row.filename == "作业.py"
    assert "作业.py" in client.get(f"/submissions/{row.id}").text


@pytest.mark.parametrize("kwargs, status, phrase", [
    ({"content": b"x = 1\n" * 40_000}, 413, "larger than 200 KB"),
    ({"content": b"x" * (400 * 1024)}, 413, "larger than 200 KB"),
    ({"code": "x = 1\n" * 40_000}, 413, "larger than 200 KB"),
    ({"content": b"print('\xff\xfe')\n"}, 400, "not UTF-8 text"),
    ({"content": b"print(1)\n", "filename": "hw.txt"}, 400, "Only Python files (.py)"),
    ({"content": b"print(1)\n", "filename": "hw.ipynb"}, 400, "its text is not JSON"),
    ({"content": b"   \n"}, 400, "The file is empty"),
    ({"content": b"print(1)\x00\n"}, 400, "NUL byte"),
    ({}, 400, "Choose a .py or .ipynb file or paste your code"),
    ({"content": b"print(1)\n", "code": "print(2)\n"}, 400, "not both"),
])
def test_a_bad_upload_is_refused_with_a_message_on_the_form(app, client, kwargs, status, phrase):
    login(client)
    response = upload(client, **kwargs)
    assert response.status_code == status
    assert phrase in response.text
    assert 'id="upload-form"' in response.text  # the form is shown again, with the message
    assert submissions(app) == []


def test_an_upload_without_its_csrf_token_is_refused_on_the_form(app, client):
    login(client)
    response = upload(client, code="print(1)\n", with_token=False)
    assert response.status_code == 400
    assert "security token" in response.text and 'id="upload-form"' in response.text
    assert submissions(app) == []


def test_logged_out_uploads_go_nowhere(app, client):
    response = upload(client, code="print(1)\n", token="forged")
    assert response.status_code in (302, 400)
    assert submissions(app) == []


def test_a_second_submission_within_ten_seconds_is_rate_limited_per_assignment(app, client):
    login(client)
    assert upload(client, code="print(1)\n").status_code == 302
    response = upload(client, code="print(2)\n")
    assert response.status_code == 429
    assert "Wait" in response.text and "seconds ago" in response.text
    assert len(submissions(app)) == 1
    # another assignment is not held up by this one's interval
    assert upload(client, code="print(3)\n", assignment="backprop-linear").status_code == 302
    assert upload(client, code="print(4)\n", assignment="backprop-linear").status_code == 429
    assert len(submissions(app)) == 2


def test_one_students_rate_limit_does_not_stop_another(app):
    first, second = app.test_client(), app.test_client()
    login(first, "alice")
    login(second, "bob")
    assert upload(first, code="print(1)\n").status_code == 302
    assert upload(second, code="print(1)\n").status_code == 302


def test_a_per_assignment_maximum_when_configured(template_db, tmp_path):
    path = tmp_path / "grader.db"
    shutil.copy(template_db, path)
    app = make_app(path, max_submissions=1, submit_interval_seconds=0)
    client = app.test_client()
    login(client)
    assert upload(client, code="print(1)\n").status_code == 302
    response = upload(client, code="print(2)\n")
    assert response.status_code == 429 and "used all 1 submissions" in response.text
    assert upload(client, code="print(3)\n", assignment="backprop-linear").status_code == 302
    app.extensions["grader.db"].dispose()


def test_a_late_submission_is_accepted_and_the_penalty_is_shown(app, client):
    set_deadline(app, "backprop-quadratic", utcnow() - dt.timedelta(days=1, hours=2))
    login(client)
    page = client.get("/assignments/backprop-quadratic")
    assert "a submission now loses 20% of its score" in page.text
    assert upload(client, code="print(1)\n").status_code == 302


def test_a_submission_after_the_last_late_day_is_refused_with_the_reason(app, client):
    set_deadline(app, "backprop-quadratic", utcnow() - dt.timedelta(days=4))  # max_days is 3
    login(client)
    page = client.get("/assignments/backprop-quadratic").text  # the sentence why, in place of the form
    assert "closed on" in page and "3 late days" in page and 'id="upload-form"' not in page
    response = upload(client, code="print(1)\n")
    assert response.status_code == 403
    assert "closed on" in response.text and "3 late days" in response.text
    assert submissions(app) == []


def test_staff_may_still_submit_after_the_last_day(app):
    set_deadline(app, "backprop-quadratic", utcnow() - dt.timedelta(days=30))
    client = app.test_client()
    login(client, "tina")
    assert upload(client, code="print(1)\n").status_code == 302


def test_an_unpublished_or_unknown_assignment_is_404_for_students(app, client):
    from grader.models import Assignment

    with db_of(app).session() as session:
        session.get(Assignment, "backprop-linear").published = False
    login(client)
    assert client.get("/assignments/backprop-linear").status_code == 404
    assert client.get("/assignments/no-such").status_code == 404
    token = csrf_from(client, "/assignments/backprop-quadratic")
    assert upload(client, "backprop-linear", code="print(1)\n", token=token).status_code == 404
    assert "backprop-linear" not in client.get("/assignments").text
    staff = app.test_client()
    login(staff, "tina")
    assert staff.get("/assignments/backprop-linear").status_code == 200
