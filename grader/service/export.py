"""Grade exports: one row per student of an assignment.

Rules: best, latest and the counts are grader.service.standings' (stated there): `best_score` is the highest
graded score, `latest_status` the status of the newest submission and `latest_score` its score (empty while
it is not graded). Students with no submission are listed with empty scores.
"""
from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa
import sqlalchemy.orm as so

from grader.models import Assignment, User
from grader.service.standings import Standing, standings
from grader.wording import points

COLUMNS = ["username", "display_name", "submissions", "graded", "best_score", "latest_status", "latest_score",
           "max_score", "late"]


def export_rows(session: so.Session, assignment_id: str) -> list[dict]:
    found = standings(session, assignment_id=assignment_id)
    rows = []
    for user in session.execute(sa.select(User.id, User.username, User.display_name)
                                .where(User.role == "student").order_by(User.username)):
        st = found.get((user.id, assignment_id), Standing())
        rows.append({"username": user.username, "display_name": user.display_name, "submissions": st.submissions,
                     "graded": st.graded, "best_score": st.best, "latest_status": st.latest_status,
                     "latest_score": st.latest_score, "max_score": st.max_score, "late": st.late})
    return rows


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")
# a spreadsheet that splits on ";" (or a tab, or "|") instead of "," reads each piece as a cell of its own:
# "Li;=1+1" would put a formula in the next cell
_PIECE_FORMULA = re.compile(r"([;,\t|]\s*)([=+\-@%])")


class _Number(float):
    """A score as the CSV writes it (grader.wording.points), unquoted (csv.QUOTE_NONNUMERIC quotes text only)."""

    def __repr__(self) -> str:
        return points(self)


def _cell(value) -> str | int | float:
    """A cell no spreadsheet runs as a formula: text that starts like one (also after spaces, which some programs
    strip) gets a leading ', and so does every piece after a ;, tab or | that starts like one; text is always
    quoted (to_csv), so a ;-separated reader keeps it in one cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return _Number(value)
    if isinstance(value, str):
        value = _PIECE_FORMULA.sub(r"\1'\2", value)
        if value[:1] in FORMULA_STARTS or value.lstrip()[:1] in FORMULA_STARTS:
            return "'" + value
    return value


def to_csv(rows: list[dict], columns: list[str] | None = None, bom: bool = False) -> str:
    """CSV text, every text cell quoted; `bom`: start with a UTF-8 byte order mark, so spreadsheet programs read
    it as UTF-8."""
    out = io.StringIO()
    if bom:
        out.write("\ufeff")
    writer = csv.DictWriter(out, columns or COLUMNS, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def course_rows(session: so.Session) -> tuple[list[str], list[dict]]:
    """The course gradebook: one row per student, each assignment's best score (standings), the total of bests."""
    assignments = list(session.scalars(sa.select(Assignment.id).order_by(Assignment.deadline.is_(None),
                                                                         Assignment.deadline, Assignment.id)))
    found = standings(session)
    columns = ["username", "display_name", *assignments, "total"]
    rows = []
    for user in session.execute(sa.select(User.id, User.username, User.display_name)
                                .where(User.role == "student").order_by(User.username)):
        row = {"username": user.username, "display_name": user.display_name}
        scores = {a: found[(user.id, a)].best if (user.id, a) in found else None for a in assignments}
        row.update(scores)
        row["total"] = round(sum(v for v in scores.values() if v is not None), 2)
        rows.append(row)
    return columns, rows
