"""Grade exports: one row per student of an assignment.

Rules: `best_score` is the highest graded score (late penalty applied), `latest_score` the score of the
newest graded submission, `submissions` counts every submission whatever its status, `late` counts the
graded submissions that carried a late penalty. Students with no submission are listed with empty scores.
"""
from __future__ import annotations

import csv
import io

import sqlalchemy as sa
import sqlalchemy.orm as so

from grader.models import Assignment, Submission, User

COLUMNS = ["username", "display_name", "submissions", "graded", "best_score", "latest_score", "max_score", "late"]


def export_rows(session: so.Session, assignment_id: str) -> list[dict]:
    counts = (sa.select(Submission.user_id,
                        sa.func.count().label("submissions"),
                        sa.func.count().filter(Submission.status == "graded").label("graded"),
                        sa.func.max(Submission.score).filter(Submission.status == "graded").label("best"),
                        sa.func.count().filter(Submission.status == "graded", Submission.late_penalty > 0).label("late"))
              .where(Submission.assignment_id == assignment_id).group_by(Submission.user_id).subquery())
    newest = (sa.select(Submission.user_id, Submission.score, Submission.max_score,
                        sa.func.row_number().over(partition_by=Submission.user_id,
                                                  order_by=(Submission.submitted_at.desc(), Submission.id.desc()))
                        .label("rank"))
              .where(Submission.assignment_id == assignment_id, Submission.status == "graded").subquery())
    query = (sa.select(User.username, User.display_name, counts.c.submissions, counts.c.graded, counts.c.best,
                       counts.c.late, newest.c.score, newest.c.max_score)
             .outerjoin(counts, counts.c.user_id == User.id)
             .outerjoin(newest, sa.and_(newest.c.user_id == User.id, newest.c.rank == 1))
             .where(User.role == "student").order_by(User.username))
    rows = []
    for r in session.execute(query):
        rows.append({"username": r.username, "display_name": r.display_name, "submissions": r.submissions or 0,
                     "graded": r.graded or 0, "best_score": r.best, "latest_score": r.score,
                     "max_score": r.max_score, "late": r.late or 0})
    return rows


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def _cell(value) -> str | int:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    # a spreadsheet would run it as a formula (also after leading spaces, which some programs strip)
    if isinstance(value, str) and (value[:1] in FORMULA_STARTS or value.lstrip()[:1] in FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(rows: list[dict], columns: list[str] | None = None, bom: bool = False) -> str:
    """CSV text; `bom`: start with a UTF-8 byte order mark, so spreadsheet programs read it as UTF-8."""
    out = io.StringIO()
    if bom:
        out.write("\ufeff")
    writer = csv.DictWriter(out, columns or COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def course_rows(session: so.Session) -> tuple[list[str], list[dict]]:
    """The course gradebook: one row per student, each assignment's best score, and the total of bests."""
    assignments = list(session.scalars(sa.select(Assignment.id).order_by(Assignment.deadline.is_(None),
                                                                         Assignment.deadline, Assignment.id)))
    best = {(r.user_id, r.assignment_id): r.best for r in session.execute(
        sa.select(Submission.user_id, Submission.assignment_id, sa.func.max(Submission.score).label("best"))
        .where(Submission.status == "graded").group_by(Submission.user_id, Submission.assignment_id))}
    columns = ["username", "display_name", *assignments, "total"]
    rows = []
    for user in session.execute(sa.select(User.id, User.username, User.display_name)
                                .where(User.role == "student").order_by(User.username)):
        row = {"username": user.username, "display_name": user.display_name}
        scores = {a: best.get((user.id, a)) for a in assignments}
        row.update(scores)
        row["total"] = round(sum(v for v in scores.values() if v is not None), 2)
        rows.append(row)
    return columns, rows
