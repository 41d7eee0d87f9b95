"""The staff pages: who may open them, CSRF, the dashboard's table, histogram and diagnosis shares, drill-down,
regrades, manual overrides in the audit log, and extensions that move penalties and visibility."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from grader.models import AuditEntry, DeadlineExtension, Submission, utcnow
from web_helpers import add_graded, client_as, csrf_from, db_of, login, never_ran, set_deadline, set_user, user_id

QUAD = "backprop-quadratic"


def staff_routes(app) -> list[tuple[str, str, str]]:
    """(method, url, endpoint) for every staff route, with real ids filled in."""
    sid = add_graded(app, "alice")
    values = {"assignment_id": QUAD, "submission_id": sid, "user_id": user_id(app, "alice"), "run_id": 1}
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("staff."):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(values[name]), url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, url, rule.endpoint))
    return found


INSTRUCTOR_ONLY = ("staff.manage", "staff.upload", "staff.edit", "staff.dry_run", "staff.dry_run_status",
                   "staff.publish", "staff.unpublish", "staff.apply_draft", "staff.discard_draft")


def test_a_student_gets_404_on_every_staff_route(app):
    routes = staff_routes(app)
    assert len(routes) >= 20
    student = client_as(app, "alice")
    for method, url, _endpoint in routes:
        response = student.open(url, method=method, data={"csrf_token": csrf_from(student, "/settings")})
        assert response.status_code == 404, (method, url)


def test_a_ta_gets_404_on_instructor_routes_and_opens_every_other_page(app):
    ta = client_as(app, "tina")
    for method, url, endpoint in staff_routes(app):
        if method != "GET":
            continue
        response = ta.get(url)
        # the submission is a script: it has no notebook to download (test_notebook_uploads downloads one)
        expected = 404 if endpoint in INSTRUCTOR_ONLY or endpoint == "staff.download_notebook" else 200
        assert response.status_code == expected, (url, response.status_code)


def test_a_students_csrf_less_post_to_a_staff_route_is_404_like_a_route_that_does_not_exist(app):
    student = client_as(app, "alice")
    assert student.post("/staff/no-such-route").status_code == 404
    for method, url, _endpoint in staff_routes(app):
        response = student.open(url, method=method)  # no CSRF token at all
        assert response.status_code == 404, (method, url, response.status_code)


def test_a_tas_csrf_less_post_to_an_instructor_route_is_404(app):
    ta = client_as(app, "tina")
    for method, url, endpoint in staff_routes(app):
        if endpoint in INSTRUCTOR_ONLY and method == "POST":
            assert ta.post(url).status_code == 404, url


def test_logged_out_visitors_are_sent_to_log_in_on_every_staff_path_existing_or_not(app, client):
    for url in ("/staff/no-such-route", "/staff/submissions/1/nothing-here"):
        for method in ("GET", "POST"):
            response = client.open(url, method=method)
            assert response.status_code == 302 and "/login" in response.headers["Location"], (method, url)
    for method, url, _endpoint in staff_routes(app):
        if method == "POST":
            response = client.post(url)  # no CSRF token: the same answer as for any other staff path
            assert response.status_code in (302, 401), url


def test_logged_out_visitors_are_sent_to_log_in(app, client):
    for method, url, _endpoint in staff_routes(app):
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_every_staff_form_needs_its_csrf_token(app):
    ta = client_as(app, "ivan")
    sid = add_graded(app, "alice")
    posts = [f"/staff/submissions/{sid}/regrade", f"/staff/submissions/{sid}/override",
             f"/staff/assignments/{QUAD}/regrade", f"/staff/assignments/{QUAD}/students/{user_id(app, 'alice')}/extension",
             "/staff/manage", f"/staff/manage/{QUAD}", f"/staff/manage/{QUAD}/publish", f"/staff/manage/{QUAD}/dry-run"]
    for url in posts:
        response = ta.post(url, data={"score": "1", "reason": "r", "which": "all", "text": "id: x"})
        assert response.status_code == 400, url
        assert "security token" in response.get_data(as_text=True)
    with db_of(app).session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
        assert session.get(Submission, sid).status == "graded"
    assert app.extensions["grader.sender"].sent == [] and app.extensions["grader.sender"].tasks == []


def test_the_dashboard_lists_every_student_with_best_latest_count_and_late(app):
    set_deadline(app, QUAD, utcnow() - dt.timedelta(days=1))
    add_graded(app, "alice", mistake=True, submitted_at=utcnow() - dt.timedelta(days=3))
    best = add_graded(app, "alice", mistake=False, submitted_at=utcnow() - dt.timedelta(days=2))
    add_graded(app, "alice", mistake=True, submitted_at=utcnow() - dt.timedelta(hours=1))
    with db_of(app).session() as session:  # the newest one was late
        newest = session.scalars(sa.select(Submission).order_by(Submission.id.desc())).first()
        newest.late_penalty = 0.1
    add_graded(app, "wang", mistake=True)
    page = client_as(app, "tina").get(f"/staff/assignments/{QUAD}").get_data(as_text=True)
    alice = re.search(r'<tr data-student="alice".*?</tr>', page, re.S).group(0)
    assert f'href="/staff/submissions/{best}"' in alice and "100" in alice
    assert ">3<" in alice and 'badge late">1<' in alice
    assert re.search(r'<tr data-student="bob".*?never', page, re.S)  # listed with nothing submitted
    assert "王芳" in page
    # the share of each diagnosis: alice's and wang's latest graded both never zero their gradients
    assert re.search(r'data-diagnosis="mistake.no_zero_grad">\s*<td class="num pct">100%', page)
    assert "Your gradients are never zeroed" in page
    # the histogram: two students graded, one bin each
    assert page.count('data-count="1"') == 2 and "<svg class=\"histogram\"" in page


def test_sorting_and_filtering_happen_on_the_server(app):
    add_graded(app, "alice", mistake=False)
    add_graded(app, "wang", mistake=True)
    ta = client_as(app, "tina")

    def order(query: str) -> list[str]:
        page = ta.get(f"/staff/assignments/{QUAD}?{query}").get_data(as_text=True)
        return re.findall(r'<tr data-student="([^"]+)"', page)

    assert order("sort=best&dir=desc") == ["alice", "wang", "bob"]  # no score sorts last either way
    assert order("sort=best&dir=asc") == ["wang", "alice", "bob"]
    assert order("sort=name&dir=asc") == ["bob", "alice", "wang"]  # by display name: "=HYPERLINK…", Alice, 王芳
    assert order("show=missing") == ["bob"]
    assert order("diagnosis=mistake.no_zero_grad") == ["wang"]
    assert order("q=%E7%8E%8B") == ["wang"]  # 王
    assert order("sort=nonsense&show=nonsense&dir=x") == ["bob", "alice", "wang"]


def test_bad_query_values_never_break_the_dashboard(app):
    ta = client_as(app, "tina")
    for query in ["sort=%00", "q=" + "x" * 5000, "show=<script>", "diagnosis=<b>x</b>", "dir=;drop"]:
        response = ta.get(f"/staff/assignments/{QUAD}?{query}")
        assert response.status_code == 200
        assert "<script>" not in response.get_data(as_text=True).split("<main>")[1]
    assert ta.get("/staff/assignments/no-such").status_code == 404
    assert ta.get("/staff/submissions/999999").status_code == 404


def test_the_drill_down_shows_source_checks_stdout_timings_and_worker(app):
    sid = add_graded(app, "alice", source="print('<script>x</script>')\n", stdout="<b>out</b>\n")
    with db_of(app).session() as session:
        s = session.get(Submission, sid)
        s.worker, s.started_at = "w1@host/123", s.submitted_at + dt.timedelta(seconds=1)
    page = client_as(app, "tina").get(f"/staff/submissions/{sid}").get_data(as_text=True)
    assert "w1@host/123" in page and "&lt;script&gt;x&lt;/script&gt;" in page and "&lt;b&gt;out&lt;/b&gt;" in page
    assert "<script>x" not in page
    assert "trace.first_divergence" in page and "mistake.no_zero_grad" in page
    assert 'id="grading-time">1.00 s' in page
    assert 'data-check="secret"' in page  # staff see hidden checks


def test_regrading_one_submission_queues_it_again_with_an_audit_entry(app):
    sid = add_graded(app, "alice")
    ta = client_as(app, "tina")
    token = csrf_from(ta, f"/staff/submissions/{sid}")
    response = ta.post(f"/staff/submissions/{sid}/regrade", data={"csrf_token": token})
    assert response.status_code == 302
    assert app.extensions["grader.sender"].sent == [sid]
    with db_of(app).session() as session:
        s = session.get(Submission, sid)
        assert (s.status, s.attempt, s.attempt_token) == ("queued", 0, None)
        entry = session.scalars(sa.select(AuditEntry)).one()
        assert (entry.action, entry.actor, entry.submission_id, entry.details["previous_score"]) == \
            ("regrade", "tina", sid, 40.1)
        assert entry.details["previous_status"] == "graded"  # as it was, not as the requeue left it


def test_regrading_an_assignment_queues_all_or_only_the_failed(app):
    ok = add_graded(app, "alice")
    failed = add_graded(app, "wang", status="failed")
    ta = client_as(app, "tina")
    token = csrf_from(ta, f"/staff/assignments/{QUAD}")
    ta.post(f"/staff/assignments/{QUAD}/regrade", data={"csrf_token": token, "which": "failed"})
    assert app.extensions["grader.sender"].sent == [failed]
    ta.post(f"/staff/assignments/{QUAD}/regrade", data={"csrf_token": token, "which": "all"})
    assert app.extensions["grader.sender"].sent == [failed, ok, failed]
    with db_of(app).session() as session:
        actions = [(e.action, e.details["which"], e.details["count"]) for e in session.scalars(sa.select(AuditEntry))]
    assert actions == [("regrade", "failed", 1), ("regrade", "all", 2)]


def test_an_override_needs_a_reason_and_is_kept_in_the_audit_log(app):
    sid = add_graded(app, "alice")
    ta = client_as(app, "tina")
    token = csrf_from(ta, f"/staff/submissions/{sid}")
    refused = ta.post(f"/staff/submissions/{sid}/override", data={"csrf_token": token, "score": "90", "reason": " "})
    assert refused.status_code == 400 and "Give a reason" in refused.get_data(as_text=True)
    too_high = ta.post(f"/staff/submissions/{sid}/override", data={"csrf_token": token, "score": "101", "reason": "x"})
    assert too_high.status_code == 400 and "above the maximum" in too_high.get_data(as_text=True)
    for value in ("lots", "nan", "inf", "-1", ""):
        refused = ta.post(f"/staff/submissions/{sid}/override", data={"csrf_token": token, "score": value, "reason": "x"})
        assert refused.status_code == 400, value
    done = ta.post(f"/staff/submissions/{sid}/override",
                   data={"csrf_token": token, "score": "90", "reason": "Marked by hand: <b>plot</b> was right"})
    assert done.status_code == 302
    with db_of(app).session() as session:
        s = session.get(Submission, sid)
        assert (s.score, s.override_score) == (90.0, 90.0)
        entry = session.scalars(sa.select(AuditEntry)).one()
        assert (entry.action, entry.actor, entry.reason) == ("override", "tina", "Marked by hand: <b>plot</b> was right")
        assert entry.details == {"from": 40.1, "to": 90.0, "automatic": 40.1}
    page = ta.get(f"/staff/submissions/{sid}").get_data(as_text=True)
    assert "Marked by hand: &lt;b&gt;plot&lt;/b&gt; was right" in page and "Manual score" in page
    # the student sees the new score on their own page
    student = client_as(app, "alice")
    assert "90" in student.get(f"/submissions/{sid}").get_data(as_text=True)
    # clearing it needs a reason too, and restores the grader's score
    assert ta.post(f"/staff/submissions/{sid}/override/clear", data={"csrf_token": token, "reason": ""}).status_code == 400
    ta.post(f"/staff/submissions/{sid}/override/clear", data={"csrf_token": token, "reason": "regraded by hand again"})
    with db_of(app).session() as session:
        s = session.get(Submission, sid)
        assert (s.score, s.override_score) == (40.1, None)
        assert [e.action for e in session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))] == \
            ["override", "override_cleared"]


def test_the_student_sees_an_override_as_set_by_staff_with_its_reason_and_the_graders_open_score(app):
    set_deadline(app, QUAD, utcnow() + dt.timedelta(days=3))  # the 15-point prediction check stays closed
    sid = add_graded(app, "alice", mistake=False)
    ta = client_as(app, "tina")
    form = ta.get(f"/staff/submissions/{sid}").get_data(as_text=True)
    assert "The student reads this reason beside the new score" in form
    ta.post(f"/staff/submissions/{sid}/override", data={"csrf_token": csrf_from(ta, f"/staff/submissions/{sid}"),
                                                         "score": "90", "reason": "Late by <b>one</b> day, as agreed"})
    page = client_as(app, "alice").get(f"/submissions/{sid}").get_data(as_text=True)
    assert re.search(r'id="score">.*90.*/ 100.*</span>\s*<span class="badge late" id="set-by-staff">score set by staff',
                     page)
    assert '<span id="override-reason">Late by &lt;b&gt;one&lt;/b&gt; day, as agreed</span>' in page
    # the grader's own score counts only the checks open to the student (grader.visibility): 85, never 100
    graders = re.search(r'id="graders-score">(.*?)</p>', page, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", graders).split() == ["85", "/", "85", "+", "15", "points", "not", "shown", "yet"]
    # staff see every check: the grader's own score is the whole one
    staff_page = ta.get(f"/staff/submissions/{sid}").get_data(as_text=True)
    assert re.sub(r"<[^>]+>", "", re.search(r'id="graders-score">(.*?)</p>', staff_page, re.S).group(1)).split() == \
        ["100", "/", "100"]
    # no override, no note
    plain = add_graded(app, "alice", mistake=False)
    assert "set-by-staff" not in client_as(app, "alice").get(f"/submissions/{plain}").get_data(as_text=True)


def test_an_override_outlives_a_regrade(app):
    from grader.scoring import GradeResult
    from grader.service import attempts

    sid = add_graded(app, "alice")
    ta = client_as(app, "tina")
    token = csrf_from(ta, f"/staff/submissions/{sid}")
    ta.post(f"/staff/submissions/{sid}/override", data={"csrf_token": token, "score": "77", "reason": "oral exam"})
    ta.post(f"/staff/submissions/{sid}/regrade", data={"csrf_token": token})
    claim = attempts.claim(db_of(app), sid, "w", 5)
    attempts.write_result(db_of(app), claim, GradeResult("backprop-quadratic", 12.0, 100.0, [], [], "", ""))
    with db_of(app).session() as session:
        assert session.get(Submission, sid).score == 77.0


def _extend(app, ta, student: str, when_local: str, reason: str = "medical note"):
    uid = user_id(app, student)
    token = csrf_from(ta, f"/staff/assignments/{QUAD}/students/{uid}")
    return ta.post(f"/staff/assignments/{QUAD}/students/{uid}/extension",
                   data={"csrf_token": token, "deadline": when_local, "reason": reason})


def test_an_extension_reprices_late_work_and_opens_after_deadline_checks_later(app):
    deadline = utcnow() - dt.timedelta(days=2)
    set_deadline(app, QUAD, deadline)
    late = add_graded(app, "alice", submitted_at=utcnow() - dt.timedelta(hours=2))
    with db_of(app).session() as session:
        s = session.get(Submission, late)
        s.late_penalty, s.score = 0.2, round(40.1 * 0.8, 2)
    student = client_as(app, "alice")
    assert "mismatch" not in student.get(f"/submissions/{late}").get_data(as_text=True)
    before = student.get(f"/submissions/{late}").get_data(as_text=True)
    assert "should be 8.54417" in before  # the deadline passed: the after_deadline check is open

    ta = client_as(app, "tina")
    future = (utcnow() + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")  # the TA's zone is UTC here
    response = _extend(app, ta, "alice", future)
    assert response.status_code == 302
    with db_of(app).session() as session:
        s = session.get(Submission, late)
        assert (s.late_penalty, s.score) == (0.0, 40.1)  # no longer late: re-priced at once
        ext = session.scalars(sa.select(DeadlineExtension)).one()
        assert ext.reason == "medical note" and ext.deadline > utcnow()
        entry = session.scalars(sa.select(AuditEntry)).one()
        assert (entry.action, entry.reason, entry.details["repriced"]) == ("extension", "medical note", 1)
    after = student.get(f"/submissions/{late}").get_data(as_text=True)
    assert "should be 8.54417" not in after and "shown after the deadline" in after
    assert "open" in student.get("/assignments").get_data(as_text=True)
    # other students keep the assignment's deadline
    wang = add_graded(app, "wang")
    assert "should be 8.54417" in client_as(app, "wang").get(f"/submissions/{wang}").get_data(as_text=True)
    # the API follows the same deadline
    from grader.web.api import submission_json

    with app.test_request_context():
        from grader.web.db import get_session

        s = get_session().get(Submission, late)
        prediction = next(c for c in submission_json(s, staff=False)["checks"] if c["id"] == "prediction")
        assert prediction["code"] == "check.after_deadline"

    # withdrawn: late again, with the penalty back
    uid = user_id(app, "alice")
    token = csrf_from(ta, f"/staff/assignments/{QUAD}/students/{uid}")
    assert ta.post(f"/staff/assignments/{QUAD}/students/{uid}/extension/revoke",
                   data={"csrf_token": token, "reason": ""}).status_code == 400
    ta.post(f"/staff/assignments/{QUAD}/students/{uid}/extension/revoke",
            data={"csrf_token": token, "reason": "note withdrawn"})
    with db_of(app).session() as session:
        s = session.get(Submission, late)
        assert s.late_penalty > 0 and s.score < 40.1
        assert session.scalars(sa.select(DeadlineExtension)).all() == []


def test_an_extension_before_the_assignments_deadline_needs_a_confirmation_that_shows_its_cost(app):
    # the form is pre-filled with the current deadline: one wrong month turns an on-time 100 into a late one
    deadline = utcnow() + dt.timedelta(days=20)
    set_deadline(app, QUAD, deadline)
    on_time = add_graded(app, "alice", submitted_at=utcnow() - dt.timedelta(days=3))
    with db_of(app).session() as session:
        points = session.get(Submission, on_time).score
    ta = client_as(app, "tina")
    earlier = (utcnow() - dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    refused = _extend(app, ta, "alice", earlier)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "before the assignment&#39;s deadline" in page and 'id="earlier-costs"' in page
    assert f"submission #{on_time}" in page and "→" in page
    with db_of(app).session() as session:  # nothing changed yet
        assert session.scalars(sa.select(DeadlineExtension)).all() == []
        assert session.get(Submission, on_time).score == points
        assert session.scalars(sa.select(AuditEntry)).all() == []

    uid = user_id(app, "alice")
    token = csrf_from(ta, f"/staff/assignments/{QUAD}/students/{uid}")
    confirmed = ta.post(f"/staff/assignments/{QUAD}/students/{uid}/extension",
                        data={"csrf_token": token, "deadline": earlier, "reason": "typo on purpose", "earlier": "y"})
    assert confirmed.status_code == 302
    with db_of(app).session() as session:
        s = session.get(Submission, on_time)
        assert s.late_penalty > 0 and s.score < points
        entry = session.scalars(sa.select(AuditEntry)).one()
        assert entry.details["costs"] == [{"id": on_time, "from": points, "to": s.score}]
    log = ta.get(f"/staff/assignments/{QUAD}/students/{uid}").get_data(as_text=True)
    assert f"#{on_time}" in log and "confirmed" in log

    # a later date needs no confirmation, and a date after the deadline never asks
    assert _extend(app, ta, "alice", (deadline + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")).status_code == 302


def test_an_earlier_deadline_without_graded_work_still_asks_and_says_only_the_window_closes(app):
    set_deadline(app, QUAD, utcnow() + dt.timedelta(days=20))
    refused = _extend(app, client_as(app, "tina"), "bob", (utcnow() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    assert refused.status_code == 400
    assert "would close earlier" in refused.get_data(as_text=True)


def test_an_extension_lets_a_student_submit_after_the_last_late_day(app):
    set_deadline(app, QUAD, utcnow() - dt.timedelta(days=30))
    student = client_as(app, "alice")
    from web_helpers import upload

    assert upload(student, code="print(1)\n").status_code == 403
    _extend(app, client_as(app, "tina"), "alice", (utcnow() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    assert upload(student, code="print(1)\n").status_code == 302


def test_the_worker_prices_a_submission_with_the_students_own_deadline(app):
    from grader.scoring import GradeResult
    from grader import lateness
    from grader.service import deadlines
    from grader.spec import load_spec
    from service_helpers import ASSIGNMENTS

    from grader.messages import Message
    from grader.checks.result import CheckResult

    spec = load_spec(ASSIGNMENTS / QUAD / "assignment.yaml")
    submitted = utcnow()
    checks = [CheckResult("runs", "runs", True, 50.0, 50.0, Message("runs.ok"), "visible", {})]
    on_time = lateness.repriced(GradeResult(QUAD, 50.0, 100.0, checks, [], "", ""), spec.late, submitted,
                                 submitted + dt.timedelta(days=1))
    assert (on_time.late_penalty, on_time.score) == (0.0, 50.0)
    late = lateness.repriced(GradeResult(QUAD, 50.0, 100.0, checks, [], "", ""), spec.late, submitted,
                              submitted - dt.timedelta(days=1, hours=1))
    assert late.late_penalty == pytest.approx(2 * spec.late.penalty_per_day)
    assert late.score == pytest.approx(50.0 * (1 - late.late_penalty))
    sid = add_graded(app, "alice", submitted_at=submitted)
    with db_of(app).session() as session:
        session.add(DeadlineExtension(assignment_id=QUAD, user_id=user_id(app, "alice"),
                                      deadline=utcnow() + dt.timedelta(days=1), reason="r"))
    with db_of(app).session() as session:
        assert deadlines.deadline_of_submission(session, sid) > utcnow()


def test_extension_form_refusals_are_messages(app):
    ta = client_as(app, "tina")
    for data in ({"deadline": "", "reason": "x"}, {"deadline": "tomorrow", "reason": "x"},
                 {"deadline": "2027-01-01T10:00", "reason": ""}, {"deadline": "0001-01-01T00:00", "reason": "x"},
                 {"deadline": "9999-12-31T23:59", "reason": "x"}):
        uid = user_id(app, "alice")
        token = csrf_from(ta, f"/staff/assignments/{QUAD}/students/{uid}")
        response = ta.post(f"/staff/assignments/{QUAD}/students/{uid}/extension", data={"csrf_token": token, **data})
        assert response.status_code == 400
        assert 'class="error"' in response.get_data(as_text=True)
    # staff accounts have no extensions: 404 as a student page
    assert ta.get(f"/staff/assignments/{QUAD}/students/{user_id(app, 'tina')}").status_code == 404


def test_queue_health_counts_waiting_running_failed_and_live_workers(app):
    from grader.models import WorkerHeartbeat
    from grader.service import queue

    waiting = add_graded(app, "alice", status="queued")
    add_graded(app, "wang", status="running")
    add_graded(app, "bob", status="failed")
    with db_of(app).session() as session:
        session.get(Submission, waiting).enqueued_at = utcnow() - dt.timedelta(minutes=5)
    queue.beat(db_of(app), "w1@host/1")
    queue.beat(db_of(app), "w1@host/1", task_done=True)
    with db_of(app).session() as session:
        session.add(WorkerHeartbeat(name="gone@host/2", last_seen=utcnow() - dt.timedelta(minutes=5),
                                    started_at=utcnow() - dt.timedelta(hours=1), tasks=9))
    with db_of(app).session() as session:
        health = queue.queue_health(session)
        assert (health.queued, health.running, health.failed) == (1, 1, 1)
        assert 290 < health.oldest_wait_seconds < 320
        assert [(w.name, w.tasks) for w in health.workers] == [("w1@host/1", 1)]
    page = client_as(app, "tina").get("/staff/").get_data(as_text=True)
    assert 'data-queue="oldest">5 min<' in page and 'data-queue="workers" class="">1<' in page
    assert "gone@host/2" not in page


def test_the_histogram_gives_full_marks_a_bar_labelled_100_and_has_axis_titles(app):
    add_graded(app, "alice", mistake=False)  # 100
    add_graded(app, "wang", mistake=True)  # 40.1
    page = client_as(app, "tina").get(f"/staff/assignments/{QUAD}").get_data(as_text=True)
    bars = dict(re.findall(r'data-count="(\d+)" data-low="([\d.]+)"', page)[::-1])
    full = re.search(r'<g data-bin="10" data-count="(\d)" data-low="100">', page)
    assert full and full.group(1) == "1"  # the 100 is in the bar labelled 100, not in the one labelled 90
    assert re.search(r'<g data-bin="9" data-count="0" data-low="90">', page)
    assert re.search(r'<g data-bin="4" data-count="1" data-low="40">', page) and bars
    assert 'data-axis="x"' in page and "Best score (points)" in page and 'data-axis="y"' in page


def test_the_class_summary_counts_syntax_errors_and_crashes_and_the_filter_names_diagnoses_in_words(app):
    add_graded(app, "alice", mistake=True)
    never_ran(app, add_graded(app, "wang"), "runs.syntax_error")
    never_ran(app, add_graded(app, "bob"), "runs.exception")
    ta = client_as(app, "tina")
    page = ta.get(f"/staff/assignments/{QUAD}").get_data(as_text=True)
    assert re.search(r'data-diagnosis="runs.ended_syntax_error">\s*<td class="num pct">33', page)
    assert re.search(r'data-diagnosis="runs.ended_crashed">\s*<td class="num pct">33', page)
    options = dict(re.findall(r'<option value="((?:mistake|runs)\.[a-z_]+)"[^>]*>([^<]+)</option>', page))
    assert options == {"mistake.no_zero_grad": "Gradients never zeroed", "runs.ended_syntax_error": "Syntax error",
                       "runs.ended_crashed": "Crashed before the end"}
    assert re.findall(r'<tr data-student="([^"]+)"',
                      ta.get(f"/staff/assignments/{QUAD}?diagnosis=runs.ended_syntax_error").get_data(as_text=True)) == ["wang"]
    set_user(app, "tina", language="zh")
    zh = ta.get(f"/staff/assignments/{QUAD}").get_data(as_text=True)
    zh_options = dict(re.findall(r'<option value="((?:mistake|runs)\.[a-z_]+)"[^>]*>([^<]+)</option>', zh))
    assert zh_options.keys() == options.keys() and not any(v.isascii() for v in zh_options.values()), zh_options


def test_below_full_marks_leaves_out_students_who_submitted_nothing(app):
    add_graded(app, "alice", mistake=False)
    add_graded(app, "wang", mistake=True)
    page = client_as(app, "tina").get(f"/staff/assignments/{QUAD}?show=below_full").get_data(as_text=True)
    assert re.findall(r'<tr data-student="([^"]+)"', page) == ["wang"]  # bob submitted nothing: "Nothing submitted"


def test_names_sort_by_pinyin_and_a_username_sort_is_offered(app):
    set_user(app, "alice", display_name="张伟")  # zhang: code points put 张 before 李 and 王
    set_user(app, "bob", display_name="李娜")  # li
    ta = client_as(app, "tina")

    def order(query: str) -> list[str]:
        page = ta.get(f"/staff/assignments/{QUAD}?{query}").get_data(as_text=True)
        return re.findall(r'<tr data-student="([^"]+)"', page)

    assert order("sort=name&dir=asc") == ["bob", "wang", "alice"]  # li, wang, zhang
    assert order("sort=name&dir=desc") == ["alice", "wang", "bob"]
    assert order("sort=username&dir=asc") == ["alice", "bob", "wang"]
    assert 'data-sort="username"' in ta.get(f"/staff/assignments/{QUAD}").get_data(as_text=True)


def test_the_audit_log_names_the_student_an_entry_is_on(app):
    ta = client_as(app, "tina")
    alice = user_id(app, "alice")
    assert _extend(app, ta, "alice", (utcnow() + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")).status_code == 302
    for url in (f"/staff/assignments/{QUAD}/audit", f"/staff/assignments/{QUAD}"):
        page = ta.get(url).get_data(as_text=True)
        cell = re.search(r'<a [^>]*class="audit-student">(.*?)</a>', page, re.S)
        assert cell and "Alice" in cell.group(1) and "alice" in cell.group(1), url
        assert f"student {alice}" not in page
