"""Before a check opens, nothing a student is shown depends on it (grader.visibility): the score, best and latest
on the list, history and the assignment page, the status JSON, the API, diagnoses, plots, the first divergent
step, and a held-out accuracy check's share. Staff see everything."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from grader.models import CheckResultRow, Submission, utcnow
from grader.service import accounts
from grader.service.standings import standings
from grader.visibility import shown_score
from web_helpers import add_graded, db_of, login, series_for, set_deadline, user_id

QUAD = "backprop-quadratic"
LOGISTIC = "logistic-regression"
FIRST = {"step": 4, "epoch": 1, "sample": 1, "param": "w2", "expected": 11.44, "got": 22.88, "matched": 3,
         "steps": 300}


def add_checks(app, checks, *, username="alice", assignment=QUAD, diagnoses=(), submitted_at=None,
               late_penalty=0.0) -> int:
    """A graded submission with these checks: (id, kind, passed, points, max, visibility, code, params, details)."""
    when = submitted_at or utcnow() - dt.timedelta(minutes=5)
    raw = sum(c[3] for c in checks)
    with db_of(app).session() as session:
        user = accounts.find_user(session, username)
        s = Submission(user_id=user.id, assignment_id=assignment, source="print(1)\n", sha256="0" * 64,
                       filename="hw.py", submitted_at=when, enqueued_at=when, status="graded", attempt=1,
                       finished_at=when + dt.timedelta(seconds=2), score=round(raw * (1 - late_penalty), 2),
                       max_score=sum(c[4] for c in checks), late_penalty=late_penalty,
                       diagnoses=[{"code": d, "params": {}} if isinstance(d, str) else {"code": d[0], "params": d[1]}
                                  for d in diagnoses], stdout_excerpt="hello\n")
        session.add(s)
        session.flush()
        for i, (cid, kind, passed, points, max_points, vis, code, params, details) in enumerate(checks):
            session.add(CheckResultRow(submission_id=s.id, check_id=cid, position=i, kind=kind, passed=passed,
                                       points=points, max_points=max_points, visibility=vis, message_code=code,
                                       message_params=params, details=details))
        return s.id


def the_issues_submission(app, **kwargs) -> int:
    """The issue's case: only `runs` is open; the hidden gradients passed and the hidden trace earned 0.1, so the
    stored score is 30.1 / 100 (the trace check also holds the plots and the first divergent step)."""
    return add_checks(app, [
        ("runs", "runs", True, 10, 10, "visible", "runs.ok", {}, {}),
        ("gradients", "gradients", True, 20, 20, "hidden", "gradients.ok", {"probes": 8}, {}),
        ("trace", "trace", False, 0.1, 30, "hidden", "trace.first_divergence", FIRST,
         {"first": FIRST, "series": series_for("mistake.no_zero_grad")}),
        ("params", "final_params", False, 0, 40, "hidden", "final_params.mismatch",
         {"param": "w1", "expected": 0.24, "got": 3.5}, {}),
    ], diagnoses=["mistake.no_zero_grad", "mistake.wrong_gradient"], **kwargs)


def api_headers(app, name="alice") -> dict:
    with db_of(app).session() as session:
        token = accounts.issue_token(session, name)
    return {"Authorization": f"Bearer {token}"}


TIMESTAMP = r"\d{4}-\d\d-\d\dT[\d:.+-]+"


def no_leak(text: str) -> None:
    """None of the closed checks' numbers or words: the total, their points, messages, diagnoses, plots."""
    for leaked in ("30.1", "0.1 /", "/ 100", "20 / 20", "steps match", "never zeroed", "wrong even at fixed",
                   "0.24", "22.88", "data-plot", 'class="first"'):
        assert leaked not in text, leaked


def test_the_total_shows_only_the_open_points_and_names_the_rest(app, client):
    sid = the_issues_submission(app)
    login(client)
    page = client.get(f"/submissions/{sid}").text
    total = re.search(r'<span id="score">(.*?)</span>\s*</h2>', page, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", total).split() == ["10", "/", "10", "+", "90", "points", "not", "shown", "yet"]
    no_leak(page)


def test_status_json_and_api_show_the_same_open_points(app, client):
    sid = the_issues_submission(app)
    login(client)
    body = client.get(f"/submissions/{sid}/status").json
    assert (body["score"], body["max_score"], body["points_not_shown"]) == (10, 10, 90)
    no_leak(body["html"])
    api = app.test_client().get(f"/api/submissions/{sid}", headers=api_headers(app)).json
    assert (api["score"], api["max_score"], api["points_not_shown"]) == (10, 10, 90)
    assert api["diagnoses"] == []
    hidden = [c for c in api["checks"] if c["visibility"] == "hidden"]
    assert len(hidden) == 3 and all("passed" not in c and "points" not in c and c["code"] == "check.hidden"
                                    for c in hidden)
    no_leak(re.sub(TIMESTAMP, "", str(api)))  # a time like 14:58:10.245 is no leaked 0.24


def test_plots_of_a_closed_check_are_404(app, client):
    sid = the_issues_submission(app)
    login(client)
    for name in ("loss", "grad-w1"):
        assert client.get(f"/submissions/{sid}/plots/{name}.svg").status_code == 404


def test_best_and_latest_rank_by_what_the_student_may_see(app, client):
    """The older submission is better only through a hidden check; the student's list must not say which."""
    start = utcnow() - dt.timedelta(hours=2)
    add_checks(app, [("runs", "runs", True, 10, 10, "visible", "runs.ok", {}, {}),
                     ("secret", "predictions", True, 90, 90, "hidden", "predictions.ok", {}, {})], submitted_at=start)
    newer = add_checks(app, [("runs", "runs", True, 10, 10, "visible", "runs.ok", {}, {}),
                             ("secret", "predictions", False, 0, 90, "hidden", "predictions.mismatch",
                              {"x": 4.0, "expected": 8.5, "got": 1.0}, {})],
                       submitted_at=start + dt.timedelta(hours=1))
    login(client)
    page = client.get("/assignments").text
    row = re.search(rf'<tr data-assignment="{QUAD}">.*?</tr>', page, re.S).group(0)
    best = re.sub(r"<[^>]+>|\s+", " ", re.search(r'class="num best">(.*?)</td>', row, re.S).group(1)).split()
    assert best == ["10", "/", "10", "+", "90", "points", "not", "shown", "yet"]
    assert "/ 100" not in row and ">100<" not in row
    # equal shown scores: the newest is the best, whatever the hidden check said
    alice = user_id(app, "alice")
    with db_of(app).session() as session:
        mine = {s.id: shown_score(s, False, None) for s in session.query(Submission)}
        st = standings(session, user_id=alice, shown={k: v.points for k, v in mine.items()})
    assert st[(alice, QUAD)].best_id == newer
    for path in (f"/assignments/{QUAD}", f"/assignments/{QUAD}/history"):
        text = client.get(path).text
        assert "/ 100" not in text and "+ 90 points not shown yet" in text, path


def test_after_the_deadline_the_after_deadline_points_count(app, client):
    sid = add_graded(app, mistake=False)
    login(client)
    assert client.get(f"/submissions/{sid}/status").json["score"] == 85
    set_deadline(app, QUAD, utcnow() - dt.timedelta(minutes=1))
    body = client.get(f"/submissions/{sid}/status").json
    assert (body["score"], body["max_score"], body["points_not_shown"]) == (100, 100, 0)
    assert "not shown yet" not in client.get(f"/submissions/{sid}").text


def test_late_penalty_is_taken_off_the_open_points(app, client):
    sid = add_checks(app, [("runs", "runs", True, 10, 10, "visible", "runs.ok", {}, {}),
                           ("gradients", "gradients", True, 30, 30, "visible", "gradients.ok", {"probes": 8}, {}),
                           ("secret", "predictions", True, 60, 60, "hidden", "predictions.ok", {}, {})],
                     late_penalty=0.1)
    login(client)
    body = client.get(f"/submissions/{sid}/status").json
    assert (body["score"], body["max_score"], body["points_not_shown"]) == (36, 40, 60)


def test_a_diagnosis_shows_only_when_its_evidence_is_open(app, client):
    """no_zero_grad comes from the trace (open); wrong_gradient from the gradients check (hidden)."""
    sid = add_checks(app, [
        ("runs", "runs", True, 10, 10, "visible", "runs.ok", {}, {}),
        ("gradients", "gradients", False, 0, 30, "hidden", "gradients.mismatch", {}, {}),
        ("trace", "trace", False, 0.1, 30, "visible", "trace.first_divergence", FIRST, {"first": FIRST}),
        ("prediction", "predictions", False, 0, 30, "after_deadline", "predictions.mismatch", {}, {}),
    ], diagnoses=["mistake.no_zero_grad", "mistake.wrong_gradient", "mistake.invented_later"])
    login(client)
    page = client.get(f"/submissions/{sid}").text
    assert "never zeroed" in page and "wrong even at fixed test points" not in page
    assert "invented_later" not in page  # a code we know nothing about waits until every check is open
    api = app.test_client().get(f"/api/submissions/{sid}", headers=api_headers(app)).json
    assert [d["code"] for d in api["diagnoses"]] == ["mistake.no_zero_grad"]


def test_a_deviation_of_the_student_s_own_run_shows_while_only_the_predictions_wait_for_the_deadline(app, client):
    """Lecture 4's specs open the prediction after the deadline: the facets and the piling up of gradients are
    read from the recorded run (the trace), so they show before it."""
    sid = add_checks(app, [
        ("runs", "runs", True, 10, 10, "visible", "runs.ok", {}, {}),
        ("trace", "trace", False, 20, 25, "visible", "trace.first_divergence", FIRST, {"first": FIRST}),
        ("prediction", "predictions", False, 0, 15, "after_deadline", "predictions.mismatch", {}, {}),
    ], diagnoses=[("mistake.optimizer", {"optimizer": "Adam", "lr": 0.01, "expected_optimizer": "SGD",
                                         "expected_lr": 0.01}),
                  ("mistake.zero_grad_per_epoch", {"every": 3})])
    login(client)
    page = client.get(f"/submissions/{sid}").text
    assert "You use Adam (lr 0.01)" in page and "once per epoch (3 steps)" in page


def test_staff_see_every_check_the_whole_score_and_every_diagnosis(app):
    sid = the_issues_submission(app)
    staff = app.test_client()
    login(staff, "tina")
    body = staff.get(f"/submissions/{sid}/status").json
    assert (body["score"], body["max_score"], body["points_not_shown"]) == (30.1, 100, 0)
    assert "never zeroed" in body["html"] and "data-plot" in body["html"]
    assert staff.get(f"/submissions/{sid}/plots/loss.svg").status_code == 200


def right_of(passed: bool) -> int:
    return 5 if passed else 2


def held_out_submission(app, passed: bool) -> int:
    right = right_of(passed)
    share = right / 6
    params = {"right": right, "samples": 6, "percent": round(100 * share, 1), "needed": 75.0, "threshold": 0.75}
    return add_checks(app, [
        ("runs", "runs", True, 10, 10, "visible", "runs.ok", {}, {}),
        ("held-out", "accuracy", passed, 20 if passed else 0, 20, "visible",
         "accuracy.ok" if passed else "accuracy.low", params, {"accuracy": share}),
    ], assignment=LOGISTIC)


@pytest.mark.parametrize("passed", [True, False])
def test_a_held_out_accuracy_says_only_pass_or_fail_before_the_deadline(app, client, passed):
    sid = held_out_submission(app, passed)
    set_deadline(app, LOGISTIC, utcnow() + dt.timedelta(days=1))
    login(client)
    page = client.get(f"/submissions/{sid}").text
    row = re.search(r'<tr class="check [a-z]+" data-check="held-out">.*?</tr>', page, re.S).group(0)
    assert ("reaches the accuracy needed" if passed else "does not reach the accuracy needed") in row and "75%" in row
    assert "83.3" not in page and "33.3" not in page and "of the 6 samples" not in page
    api = app.test_client().get(f"/api/submissions/{sid}", headers=api_headers(app)).json
    held = next(c for c in api["checks"] if c["id"] == "held-out")
    assert held["code"] == ("accuracy.held_out_passed" if passed else "accuracy.held_out_failed")
    assert "83.3" not in held["message"] and "33.3" not in held["message"]
    # after the deadline, the share
    set_deadline(app, LOGISTIC, utcnow() - dt.timedelta(minutes=1))
    assert (f"{right_of(passed)} of the 6 samples") in client.get(f"/submissions/{sid}").text


def test_staff_see_a_held_out_share_before_the_deadline(app):
    sid = held_out_submission(app, True)
    set_deadline(app, LOGISTIC, utcnow() + dt.timedelta(days=1))
    staff = app.test_client()
    login(staff, "tina")
    assert "5 of the 6 samples" in staff.get(f"/submissions/{sid}").text
