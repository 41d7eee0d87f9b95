"""The TA dashboard: the course's assignments and queue health; one assignment's gradebook (sortable,
filterable, server-side), its score histogram and diagnosis shares; CSV exports; regrading in bulk."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Response, flash, redirect, render_template, request, url_for

from grader.i18n import N_
from grader.models import Assignment, Submission
from grader.service import audit, export, gradebook as gb
from grader.service.queue import queue_health
from grader.service.regrade import select_ids
from grader.submissions import REQUEUE_REGRADE, requeue
from grader.web.db import get_session
from grader.web.staff import bp
from grader.web.staff.common import assignment_or_404, record, send_grades, staff_required
from grader.web.staff.forms import ActionForm, RegradeForm
from grader.lateness import window
from grader.web.language import _, feedback, ngettext
from grader.web.student.rules import spec_of

SORT_LABELS = {"name": N_("Student"), "best": N_("Best"), "latest": N_("Latest"), "submissions": N_("Submissions"),
               "last": N_("Last submitted"), "late": N_("Late")}
FILTER_LABELS = {"all": N_("Everyone"), "submitted": N_("Submitted"), "missing": N_("Nothing submitted"), "late": N_("Late"),
                 "below_full": N_("Below full marks"), "extended": N_("With an extension"), "failed": N_("Grading failed")}


@bp.get("/")
@staff_required
def index():
    session = get_session()
    assignments = list(session.scalars(sa.select(Assignment).order_by(Assignment.deadline.is_(None),
                                                                       Assignment.deadline, Assignment.id)))
    stats = {r.assignment_id: r for r in session.execute(
        sa.select(Submission.assignment_id, sa.func.count().label("submissions"),
                  sa.func.count(sa.distinct(Submission.user_id)).label("students"),
                  sa.func.count().filter(Submission.status == "failed").label("failed"))
        .group_by(Submission.assignment_id))}
    return render_template("staff/index.html", assignments=assignments, stats=stats, health=queue_health(session),
                           action=ActionForm())


def _args() -> dict:
    sort = request.args.get("sort", "name")
    return {"q": request.args.get("q", "")[:100], "show": request.args.get("show", "all"),
            "diagnosis": request.args.get("diagnosis", "")[:64],
            "sort": sort if sort in gb.SORTS else "name", "desc": request.args.get("dir") == "desc"}


@bp.get("/assignments/<assignment_id>")
@staff_required
def assignment(assignment_id: str):
    a = assignment_or_404(assignment_id)
    book = gb.gradebook(get_session(), a.id)
    args = _args()
    rows = gb.select_rows(book.rows, query=args["q"], show=args["show"] if args["show"] in gb.FILTERS else "all",
                          diagnosis=args["diagnosis"], sort=args["sort"], descending=args["desc"])

    def sort_url(key: str) -> str:
        # the sorted column flips; another starts high to low, except names
        desc = (not args["desc"]) if key == args["sort"] else key not in ("name", "username")
        params = {k: v for k, v in (("q", args["q"]), ("show", args["show"]), ("diagnosis", args["diagnosis"])) if v
                  and v != "all"}
        return url_for("staff.assignment", assignment_id=a.id, sort=key, dir="desc" if desc else "asc", **params)

    failed = sum(r.failed for r in book.rows)
    return render_template("staff/assignment.html", a=a, book=book, rows=rows, args=args, sort_url=sort_url,
                           sort_labels=SORT_LABELS, filter_labels=FILTER_LABELS, regrade=RegradeForm(),
                           win=window(spec_of(a).late, a.deadline), health=queue_health(get_session(), assignment_id=a.id),
                           failed=failed, diagnosis_text=lambda code: feedback(code, book.examples.get(code)),
                           log=audit.entries(get_session(), assignment_id=a.id, limit=20))


@bp.post("/assignments/<assignment_id>/regrade")
@staff_required
def regrade_assignment(assignment_id: str):
    a = assignment_or_404(assignment_id)
    form = RegradeForm()
    which = form.which.data if form.which.data in ("all", "failed") else "failed"
    if not form.validate_on_submit():
        return redirect(url_for("staff.assignment", assignment_id=a.id))
    session = get_session()
    ids = select_ids(session, a.id, which)
    requeue(session, ids, REQUEUE_REGRADE)
    record("regrade", assignment_id=a.id, details={"which": which, "count": len(ids)})
    session.commit()  # committed before the tasks are sent: a worker must find the rows
    sent = send_grades(ids)
    message = ngettext("%(num)s submission queued for grading again.", "%(num)s submissions queued for grading again.",
                       len(ids))
    if sent < len(ids):
        message += " " + _("The queue did not answer; they will be sent again within minutes.")
    flash(message, "ok")
    return redirect(url_for("staff.assignment", assignment_id=a.id))


def _csv(text: str, filename: str) -> Response:
    response = Response(text.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/assignments/<assignment_id>/gradebook.csv")
@staff_required
def export_assignment(assignment_id: str):
    a = assignment_or_404(assignment_id)
    text = export.to_csv(export.export_rows(get_session(), a.id), bom=True)
    return _csv(text, f"{a.id}-gradebook.csv")


@bp.get("/gradebook.csv")
@staff_required
def export_course():
    columns, rows = export.course_rows(get_session())
    return _csv(export.to_csv(rows, columns, bom=True), f"course-gradebook-{dt.date.today().isoformat()}.csv")


@bp.get("/assignments/<assignment_id>/audit")
@staff_required
def audit_log(assignment_id: str):
    a = assignment_or_404(assignment_id)
    return render_template("staff/audit.html", a=a, log=audit.entries(get_session(), assignment_id=a.id, limit=1000))
