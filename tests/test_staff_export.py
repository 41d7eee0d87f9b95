"""CSV gradebooks from the staff pages: UTF-8 with a BOM, one row per student, Chinese names intact, nothing a
spreadsheet would run as a formula."""
from __future__ import annotations

import csv
import io

from service_helpers import ASSIGNMENTS
from web_helpers import add_graded, client_as, set_user

QUAD = "backprop-quadratic"


def rows_of(response) -> list[dict]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: spreadsheet programs then read UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_the_assignment_gradebook_has_one_row_per_student(app):
    add_graded(app, "alice", mistake=True)
    add_graded(app, "alice", mistake=False)
    add_graded(app, "wang", mistake=True)
    rows = rows_of(client_as(app, "tina").get(f"/staff/assignments/{QUAD}/gradebook.csv"))
    by_name = {r["username"]: r for r in rows}
    assert list(by_name) == ["alice", "bob", "wang"]  # students only, every one of them
    assert (by_name["alice"]["submissions"], by_name["alice"]["best_score"], by_name["alice"]["latest_score"]) == \
        ("2", "100", "100")
    assert by_name["wang"]["display_name"] == "王芳" and by_name["wang"]["best_score"] == "40.1"
    assert by_name["bob"]["best_score"] == "" and by_name["bob"]["submissions"] == "0"


def test_cells_that_look_like_formulas_are_defused(app):
    set_user(app, "alice", display_name="+cmd|' /C calc'!A0")
    set_user(app, "wang", display_name="  @SUM(1+1)")
    rows = rows_of(client_as(app, "tina").get(f"/staff/assignments/{QUAD}/gradebook.csv"))
    names = {r["username"]: r["display_name"] for r in rows}
    assert names["bob"] == "'=HYPERLINK(\"http://x\")"
    assert names["alice"] == "'+cmd|' /C calc'!A0"
    assert names["wang"] == "'  @SUM(1+1)"


def test_cells_a_semicolon_separated_spreadsheet_would_run_are_quoted_and_defused(app):
    set_user(app, "alice", display_name="Li;=1+1")
    set_user(app, "wang", display_name="Wang\t@SUM(A1)|-2+3")
    response = client_as(app, "tina").get(f"/staff/assignments/{QUAD}/gradebook.csv")
    text = response.get_data().decode("utf-8-sig")
    assert '"Li;\'=1+1"' in text  # quoted: one cell, and the piece after ; no longer starts with =
    for line in text.splitlines():  # split the way a ;-separated spreadsheet does, ignoring the quotes
        for piece in line.replace("\t", ";").replace("|", ";").split(";"):
            assert piece.strip().strip('"')[:1] not in ("=", "+", "-", "@"), (line, piece)
    names = {r["username"]: r["display_name"] for r in rows_of(response)}
    assert names["alice"] == "Li;'=1+1" and names["wang"] == "Wang\t'@SUM(A1)|'-2+3"


def test_the_course_gradebook_has_a_column_per_assignment_and_a_total(app):
    add_graded(app, "alice", mistake=False)
    add_graded(app, "alice", mistake=True, assignment="backprop-linear")
    add_graded(app, "wang", mistake=True)
    response = client_as(app, "ivan").get("/staff/gradebook.csv")
    rows = rows_of(response)
    columns = list(rows[0])
    assert columns[:2] == ["username", "display_name"] and columns[-1] == "total"
    assert sorted(columns[2:-1]) == sorted(p.parent.name for p in ASSIGNMENTS.glob("*/assignment.yaml"))
    by_name = {r["username"]: r for r in rows}
    assert by_name["alice"]["backprop-quadratic"] == "100" and by_name["alice"]["total"] == "140.1"
    assert by_name["wang"]["display_name"] == "王芳" and by_name["wang"]["backprop-linear"] == ""
    assert by_name["bob"]["total"] == "0"


def test_students_cannot_download_gradebooks(app):
    student = client_as(app, "alice")
    assert student.get(f"/staff/assignments/{QUAD}/gradebook.csv").status_code == 404
    assert student.get("/staff/gradebook.csv").status_code == 404
