"""A submission's page, live status, source and plots: what its owner sees, and that nobody else sees it."""
from __future__ import annotations

import datetime as dt
import re

from grader.models import utcnow
from web_helpers import add_graded, db_of, login, never_ran, set_deadline, set_user, upload

XSS = "<script>alert('x')</script>"


def test_the_owner_sees_checks_diagnosis_first_step_plots_and_output(app, client):
    sid = add_graded(app, stdout="\tgrad: 1.0 2.0 -2.0 w1.grad\n")
    login(client)
    page = client.get(f"/submissions/{sid}").text
    # the after_deadline prediction (15 points) is not open yet: its points are not in the score
    assert "40.1" in page and "/ 85" in page and "+ 15 points not shown yet" in page and "/ 100" not in page
    assert "Your gradients are never zeroed" in page  # the diagnosis
    assert "1 of 300 steps match" in page  # the trace check's message
    first = re.search(r'<table class="first">.*?</table>', page, re.S).group(0)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", first, re.S)
    # a row graded before steps carried their line has none to show
    assert [re.sub("<.*?>", "", c).strip() for c in cells] == ["2", "1", "2", "w1.grad", "22.88", "24.88", "—"]
    assert 'data-plot="loss"' in page and 'data-plot="grad-w1"' in page and 'data-plot="grad-b"' in page
    assert "grad: 1.0 2.0 -2.0" in page


def test_hidden_checks_show_only_that_they_exist(app, client):
    sid = add_graded(app)
    login(client)
    page = client.get(f"/submissions/{sid}").text
    row = re.search(r'<tr class="check closed" data-check="secret">.*?</tr>', page, re.S).group(0)
    assert "hidden" in row and "This check&#39;s result is hidden." in row and "? /" in row


def test_after_deadline_checks_open_once_the_deadline_passed(app, client):
    sid = add_graded(app)
    login(client)
    set_deadline(app, "backprop-quadratic", utcnow() + dt.timedelta(days=2))
    page = client.get(f"/submissions/{sid}").text
    row = re.search(r'<tr class="check [a-z]+" data-check="prediction">.*?</tr>', page, re.S).group(0)
    assert "shown after the deadline" in row and "8.54417" not in row
    set_deadline(app, "backprop-quadratic", utcnow() - dt.timedelta(minutes=1))
    row = re.search(r'<tr class="check [a-z]+" data-check="prediction">.*?</tr>',
                    client.get(f"/submissions/{sid}").text, re.S).group(0)
    assert "forward(4) should be 8.54417" in row


def test_staff_see_hidden_checks(app):
    sid = add_graded(app)
    staff = app.test_client()
    login(staff, "tina")
    page = staff.get(f"/submissions/{sid}").text
    assert 'data-check="secret"' in page and '<tr class="check closed"' not in page
    assert "Alice" in page  # whose submission it is


def test_a_correct_submission_shows_full_marks_and_no_divergence(app, client):
    sid = add_graded(app, mistake=False)
    login(client)
    page = client.get(f"/submissions/{sid}").text
    assert "85<span class=\"max\"> / 85" in page and "+ 15 points not shown yet" in page
    assert 'class="first"' not in page and "Diagnosis" not in page
    assert 'data-plot="loss"' in page


def test_the_status_endpoint_reports_progress_then_the_results(app, client):
    login(client)
    location = upload(client, code="print(1)\n").headers["Location"]
    sid = int(location.rsplit("/", 1)[1])
    body = client.get(f"/submissions/{sid}/status").json
    assert body["status"] == "queued" and body["final"] is False and body["html"] is None
    page = client.get(location).text
    assert 'data-status="queued"' in page and "updates by itself" in page
    graded = add_graded(app, submitted_at=utcnow())
    body = client.get(f"/submissions/{graded}/status").json
    assert body["status"] == "graded" and body["final"] and body["score"] == 40.1
    assert (body["max_score"], body["points_not_shown"]) == (85, 15)
    assert "Your gradients are never zeroed" in body["html"]


def test_a_failed_grading_says_it_was_not_the_students_fault(app, client):
    sid = add_graded(app, status="failed")
    login(client)
    body = client.get(f"/submissions/{sid}/status").json
    assert body["final"] and "not yours" in body["html"]


def test_plots_are_svg_with_their_own_policy(app, client):
    sid = add_graded(app)
    login(client)
    for name in ("loss", "grad-w1", "grad-w2", "grad-b"):
        response = client.get(f"/submissions/{sid}/plots/{name}.svg")
        assert response.status_code == 200, name
        assert response.mimetype == "image/svg+xml"
        assert response.data.lstrip().startswith(b"<?xml") and b"<svg" in response.data
        assert b"<script" not in response.data
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert client.get(f"/submissions/{sid}/plots/grad-nope.svg").status_code == 404
    assert client.get(f"/submissions/{sid}/plots/..%2fsecret.svg").status_code == 404


def test_the_plots_follow_the_trace_checks_visibility(app, client):
    from grader.models import CheckResultRow

    sid = add_graded(app)
    from web_helpers import db_of

    with db_of(app).session() as session:
        session.get(CheckResultRow, (sid, "trace")).visibility = "hidden"
    login(client)
    page = client.get(f"/submissions/{sid}").text
    assert "data-plot" not in page and 'class="first"' not in page
    assert client.get(f"/submissions/{sid}/plots/loss.svg").status_code == 404


def test_the_source_view_has_line_numbers_and_escapes_everything(app, client):
    sid = add_graded(app, source=f"x = 1\nprint('{XSS}')\n")
    login(client)
    page = client.get(f"/submissions/{sid}/source").text
    assert '<tr id="L2"><td class="ln">2</td>' in page
    assert XSS not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


def test_every_student_string_is_escaped_on_every_page(app, client):
    set_user(app, "alice", display_name=XSS)
    sid = add_graded(app, source=f"print('{XSS}')\n", filename=f"{XSS}.py", stdout=f"{XSS}\n")
    login(client)
    pages = [f"/submissions/{sid}", f"/submissions/{sid}/source", "/assignments",
             "/assignments/backprop-quadratic", "/assignments/backprop-quadratic/history"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<script>alert" not in response.text, path
    assert "&lt;script&gt;" in client.get(f"/submissions/{sid}").text
    assert "<script>alert" not in client.get(f"/submissions/{sid}/status").json["html"]


def test_someone_elses_submission_is_404_on_every_route(app, client):
    sid = add_graded(app, "bob")
    login(client, "alice")
    for suffix in ("", "/status", "/source", "/plots/loss.svg"):
        response = client.get(f"/submissions/{sid}{suffix}")
        assert response.status_code == 404, suffix
        assert "HYPERLINK" not in response.text  # bob's display name (web_helpers.USERS)
    assert client.get("/submissions/999999").status_code == 404
    # the same page, but for its CSRF token, which is signed with the second it was made in
    missing, forbidden = client.get("/submissions/999999").text, client.get(f"/submissions/{sid}").text
    assert without_tokens(missing) == without_tokens(forbidden)


def without_tokens(page: str) -> str:
    """The page with its CSRF tokens' values left out."""
    return re.sub(r'(name="csrf[-_]token"(?: type="hidden")? (?:content|value)=)"[^"]+"', r'\1""', page)


def test_the_history_lists_only_ones_own_submissions_for_the_assignment(app, client):
    mine = [add_graded(app, submitted_at=utcnow() - dt.timedelta(hours=h)) for h in (3, 2)]
    theirs = add_graded(app, "bob")
    other = add_graded(app, assignment="backprop-linear")
    login(client)
    page = client.get("/assignments/backprop-quadratic/history").text
    listed = [int(x) for x in re.findall(r'data-submission="(\d+)"', page)]
    assert listed == mine[::-1]  # newest first
    assert theirs not in listed and other not in listed


def test_the_assignment_list_shows_best_latest_count_and_deadline_state(app, client):
    add_graded(app, mistake=False, submitted_at=utcnow() - dt.timedelta(hours=2))
    add_graded(app, mistake=True, submitted_at=utcnow() - dt.timedelta(hours=1))
    set_deadline(app, "backprop-linear", utcnow() - dt.timedelta(hours=3))
    login(client)
    page = client.get("/assignments").text
    row = re.search(r'<tr data-assignment="backprop-quadratic">.*?</tr>', page, re.S).group(0)
    best = re.search(r'class="num best">(.*?)</td>', row, re.S).group(1)
    latest = re.search(r'class="num latest">(.*?)</td>', row, re.S).group(1)
    count = re.search(r'class="num count">(.*?)</td>', row, re.S).group(1)
    assert ">85<" in best and "+ 15 points not shown yet" in best and "40.1" in latest and ">2<" in count
    assert "open" in row
    linear = re.search(r'<tr data-assignment="backprop-linear">.*?</tr>', page, re.S).group(0)
    assert "deadline passed" in linear and "−10%" in linear


def test_deadlines_show_in_the_chosen_time_zone_else_the_browsers(app, client):
    login(client)
    # the seed deadline is 2026-12-10T23:59+08:00
    client.set_cookie("tz", "America/New_York")
    assert "Dec 10, 2026 10:59 UTC−5" in client.get("/assignments").text
    set_user(app, "alice", timezone="Asia/Shanghai")
    assert "Dec 10, 2026 23:59 UTC+8" in client.get("/assignments").text
    client.set_cookie("tz", "Not/AZone")
    set_user(app, "alice", timezone=None)
    assert "Dec 10, 2026 15:59 UTC" in client.get("/assignments").text


def test_the_status_long_poll_answers_as_soon_as_the_result_is_written(app, client):
    import threading
    import time

    import sqlalchemy as sa

    from grader.models import Submission

    login(client)
    sid = int(upload(client, code="print(1)\n").headers["Location"].rsplit("/", 1)[1])
    started = time.monotonic()
    body = client.get(f"/submissions/{sid}/status?known=queued&wait=1.5").json  # nothing changes: the wait ends
    assert body["status"] == "queued" and time.monotonic() - started >= 1.4

    def grade_soon():
        time.sleep(0.5)
        with app.extensions["grader.db"].session() as session:
            session.execute(sa.update(Submission).where(Submission.id == sid).values(status="running"))

    writer = threading.Thread(target=grade_soon)
    started = time.monotonic()
    writer.start()
    body = client.get(f"/submissions/{sid}/status?known=queued&wait=20").json
    writer.join()
    assert body["status"] == "running"
    assert time.monotonic() - started < 15  # answered when the row changed, long before the 20 s wait
    # a status the page does not know yet, or no wait, answers at once
    assert client.get(f"/submissions/{sid}/status?known=queued&wait=20").json["status"] == "running"


def test_queued_work_shows_its_place_in_the_queue_and_an_estimate(app, client):
    import sqlalchemy as sa

    from grader.models import Submission

    login(client)
    earlier = add_graded(app, "wang", status="queued", submitted_at=utcnow() - dt.timedelta(seconds=30))
    mine = add_graded(app, "alice", status="queued", submitted_at=utcnow() - dt.timedelta(seconds=10))
    page = client.get(f"/submissions/{mine}").get_data(as_text=True)
    # one submission ahead, no worker seen and no run timed yet: two runs of the default 2 s
    assert re.search(r'id="queue-place" data-place="2">2nd in the queue, about 4 s<', page)
    body = client.get(f"/submissions/{mine}/status").json
    assert (body["place"], body["queue_note"]) == (2, "2nd in the queue, about 4 s")
    with db_of(app).session() as session:  # the one ahead starts: the long poll answers with the new place
        session.execute(sa.update(Submission).where(Submission.id == earlier).values(status="running"))
    body = client.get(f"/submissions/{mine}/status?known=queued&place=2&wait=20").json
    assert (body["status"], body["place"], body["queue_note"]) == ("queued", 1, "1st in the queue, about 4 s")
    with db_of(app).session() as session:
        session.execute(sa.update(Submission).where(Submission.id == mine).values(status="running"))
    assert client.get(f"/submissions/{mine}/status").json["queue_note"] == ""
    assert 'id="queue-place" data-place=""' in client.get(f"/submissions/{mine}").get_data(as_text=True)


def test_a_closed_assignment_shows_why_instead_of_the_upload_form(app, client):
    login(client)
    set_deadline(app, "backprop-quadratic", utcnow() - dt.timedelta(days=5))  # past its 3 late days
    page = client.get("/assignments/backprop-quadratic").get_data(as_text=True)
    assert 'id="upload-form"' not in page and "<textarea" not in page
    closed = re.search(r'<p class="error" id="closed">(.*?)</p>', page, re.S).group(1)
    assert "closed on" in closed and "3 late days" in closed and "extension" in closed
    set_deadline(app, "backprop-quadratic", utcnow() + dt.timedelta(days=1))
    assert 'id="upload-form"' in client.get("/assignments/backprop-quadratic").get_data(as_text=True)


def test_a_script_that_never_ran_shows_no_plots(app, client):
    login(client)
    sid = add_graded(app)
    never_ran(app, sid)
    page = client.get(f"/submissions/{sid}").get_data(as_text=True)
    assert "Syntax error on line 3" in page and 'class="plot"' not in page
    assert client.get(f"/submissions/{sid}/plots/loss.svg").status_code == 404
