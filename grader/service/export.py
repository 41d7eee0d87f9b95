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

from grader.models import Submission, User

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


def _cell(value) -> str | int:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # a spreadsheet would run it as a formula
    return value


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()
