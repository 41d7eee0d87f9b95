"""Best and latest per student (grader.service.standings): the TA dashboard, both CSV gradebooks and the student's
own list say the same, also while the newest submission is still queued."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

from grader.models import utcnow
from grader.service.standings import standings
from web_helpers import add_graded, client_as, db_of, user_id

QUAD = "backprop-quadratic"


def _csv(response) -> list[dict]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def _cells(page: str, row_start: str) -> tuple[str, str]:
    """The text of the best and latest cells of the table row that starts with `row_start`."""
    row = page[page.index(row_start):]
    row = row[:row.index("</tr>")]
    best, latest = (re.sub(r"<[^>]+>|\s+", " ", re.search(rf'<td class="num {name}">(.*?)</td>', row, re.S)
                           .group(1)).split() for name in ("best", "latest"))
    return " ".join(best), " ".join(latest)


def test_every_screen_agrees_on_best_and_latest_while_the_newest_is_queued(app):
    start = utcnow() - dt.timedelta(hours=3)
    best_id = add_graded(app, "alice", mistake=False, submitted_at=start)  # 100
    add_graded(app, "alice", mistake=True, submitted_at=start + dt.timedelta(hours=1))  # 40.1
    queued_id = add_graded(app, "alice", status="queued", submitted_at=start + dt.timedelta(hours=2))

    alice = user_id(app, "alice")
    with db_of(app).session() as session:
        st = standings(session, assignment_id=QUAD)[(alice, QUAD)]
    assert (st.best, st.best_id, st.latest_id, st.latest_status, st.latest_score) == \
        (100.0, best_id, queued_id, "queued", None)
    assert (st.submissions, st.graded, st.max_score) == (3, 2, 100.0)

    ta = client_as(app, "tina")
    dashboard = ta.get(f"/staff/assignments/{QUAD}").get_data(as_text=True)
    assert _cells(dashboard, 'data-student="alice"') == ("100 / 100", "Queued")
    assert f"/staff/submissions/{queued_id}" in dashboard and f"/staff/submissions/{best_id}" in dashboard

    [row] = [r for r in _csv(ta.get(f"/staff/assignments/{QUAD}/gradebook.csv")) if r["username"] == "alice"]
    assert (row["best_score"], row["latest_status"], row["latest_score"], row["submissions"], row["graded"]) == \
        ("100", "queued", "", "3", "2")
    [course] = [r for r in _csv(ta.get("/staff/gradebook.csv")) if r["username"] == "alice"]
    assert course[QUAD] == "100"

    mine = client_as(app, "alice").get("/assignments").get_data(as_text=True)
    # the student's own list: the after_deadline check's 15 points are not shown yet (grader.visibility)
    assert _cells(mine, f'data-assignment="{QUAD}"') == ("85 / 85 + 15 points not shown yet", "Queued")
    assert f"/submissions/{queued_id}" in mine


def test_a_newest_graded_submission_is_the_latest_everywhere(app):
    start = utcnow() - dt.timedelta(hours=2)
    add_graded(app, "wang", mistake=False, submitted_at=start)
    add_graded(app, "wang", mistake=True, submitted_at=start + dt.timedelta(hours=1))
    ta = client_as(app, "tina")
    assert _cells(ta.get(f"/staff/assignments/{QUAD}").get_data(as_text=True), 'data-student="wang"') == \
        ("100 / 100", "40.1 / 100")
    [row] = [r for r in _csv(ta.get(f"/staff/assignments/{QUAD}/gradebook.csv")) if r["username"] == "wang"]
    assert (row["best_score"], row["latest_status"], row["latest_score"]) == ("100", "graded", "40.1")
    assert _cells(client_as(app, "wang").get("/assignments").get_data(as_text=True),
                  f'data-assignment="{QUAD}"') == ("85 / 85 + 15 points not shown yet",
                                                   "40.1 / 85 + 15 points not shown yet")
