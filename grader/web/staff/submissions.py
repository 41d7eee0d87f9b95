"""Drill-down into any submission (source, checks with their codes, stdout, timings, worker, audit trail),
downloading what was uploaded (a notebook as stored, or its code as a script), regrading it, and overriding its
score with a reason kept in the audit log."""
from __future__ import annotations

import io
import math
from pathlib import PurePosixPath

from flask import abort, flash, redirect, render_template, send_file, url_for

from grader.messages import render_failure
from grader.lateness import priced
from grader.service import audit
from grader.service.deadlines import effective_deadline
from grader.submissions import REQUEUE_REGRADE, requeue
from grader.web.db import get_session
from grader.web.notebook_view import shown_cells
from grader.web.staff import bp
from grader.web.staff.common import record, send_grades, staff_required, submission_or_404
from grader.web.staff.forms import OverrideForm, ReasonForm, RegradeForm
from grader.web.student.present import present
from grader.web.language import _, current_lang
from grader.wording import points


def automatic_score(s) -> float | None:
    """The grader's own score (check points less the late penalty), whatever an override says."""
    if s.status != "graded":
        return None
    return priced(sum(c.points for c in s.checks), s.late_penalty or 0.0)


def part_context(s, override: OverrideForm | None = None, clear: ReasonForm | None = None) -> dict:
    """What staff/_submission_part.html shows: everything on the page that grading changes."""
    return dict(s=s, view=present(s, staff=True), deadline=effective_deadline(get_session(), s.user_id, s.assignment),
                auto=automatic_score(s), override=override or OverrideForm(formdata=None),
                clear=clear or ReasonForm(formdata=None), regrade=RegradeForm(), checks=list(s.checks),
                failure=failure_text(s))


def render_submission(s, override: OverrideForm | None = None, clear: ReasonForm | None = None, status: int = 200):
    return render_template(
        "staff/submission.html", **part_context(s, override, clear),
        log=audit.entries(get_session(), submission_id=s.id), lines=s.source.split("\n"), cells=shown_cells(s)), status


def failure_text(s) -> str | None:
    """Why grading failed on our side, in the viewer's language (rows before migration 0005: as stored)."""
    if s.error_code:
        return render_failure(s.error_code, s.error_params or {}, current_lang())
    return s.error


@bp.get("/submissions/<int:submission_id>")
@staff_required
def submission(submission_id: int):
    return render_submission(submission_or_404(submission_id))


@bp.get("/submissions/<int:submission_id>/part")
@staff_required
def submission_part(submission_id: int):
    """The part of the page grading changes, rendered afresh: the page swaps it in when a live regrade finishes."""
    return render_template("staff/_submission_part.html", **part_context(submission_or_404(submission_id)))


def _attachment(text: str, name: str, kind: str):
    return send_file(io.BytesIO(text.encode("utf-8")), mimetype=kind, as_attachment=True, download_name=name)


@bp.get("/submissions/<int:submission_id>/download/code")
@staff_required
def download_code(submission_id: int):
    """The code as a script: a notebook's code cells in the percent format (`# %% cell 3`)."""
    s = submission_or_404(submission_id)
    return _attachment(s.source, str(PurePosixPath(s.filename).with_suffix(".py")), "text/x-python")


@bp.get("/submissions/<int:submission_id>/download/notebook")
@staff_required
def download_notebook(submission_id: int):
    """The notebook as stored (grader.notebook.stored_text); 404 for a script."""
    s = submission_or_404(submission_id)
    if s.notebook is None:
        abort(404)
    return _attachment(s.notebook, s.filename, "application/x-ipynb+json")


@bp.post("/submissions/<int:submission_id>/regrade")
@staff_required
def regrade_submission(submission_id: int):
    s = submission_or_404(submission_id)
    if RegradeForm().validate_on_submit():
        # what it was before: requeue() updates the loaded row too, so read them first
        previous = {"previous_score": s.score, "previous_status": s.status}
        requeue(get_session(), [s.id], REQUEUE_REGRADE)
        record("regrade", assignment_id=s.assignment_id, submission_id=s.id, student_id=s.user_id,
               details={"which": "one", "count": 1, **previous})
        get_session().commit()
        if send_grades([s.id]):
            flash(_("Queued for grading again."), "ok")
        else:
            flash(_("Queued for grading again; the queue did not answer, so it will be sent within minutes."), "ok")
    return redirect(url_for("staff.submission", submission_id=s.id))


@bp.post("/submissions/<int:submission_id>/override")
@staff_required
def override(submission_id: int):
    s = submission_or_404(submission_id)
    form = OverrideForm()
    if s.status != "graded":
        form.score.errors = [_("Only a graded submission can get a manual score.")]
        return render_submission(s, override=form, status=400)
    if not form.validate_on_submit():
        return render_submission(s, override=form, status=400)
    if not math.isfinite(form.score.data):
        form.score.errors = [_("Enter a number.")]
        return render_submission(s, override=form, status=400)
    if s.max_score is not None and form.score.data > s.max_score:
        form.score.errors = [_("The score cannot be above the maximum, %(max)s.", max=points(s.max_score))]
        return render_submission(s, override=form, status=400)
    value = round(float(form.score.data), 2)
    record("override", assignment_id=s.assignment_id, submission_id=s.id, student_id=s.user_id,
           reason=form.reason.data.strip(), details={"from": s.score, "to": value, "automatic": automatic_score(s)})
    s.override_score = value
    s.score = value
    get_session().commit()
    flash(_("The score is now %(score)s; the reason is in the audit log.", score=points(value)), "ok")
    return redirect(url_for("staff.submission", submission_id=s.id))


@bp.post("/submissions/<int:submission_id>/override/clear")
@staff_required
def clear_override(submission_id: int):
    s = submission_or_404(submission_id)
    form = ReasonForm()
    if s.override_score is None:
        return redirect(url_for("staff.submission", submission_id=s.id))
    if not form.validate_on_submit():
        return render_submission(s, clear=form, status=400)
    auto = automatic_score(s)
    record("override_cleared", assignment_id=s.assignment_id, submission_id=s.id, student_id=s.user_id,
           reason=form.reason.data.strip(), details={"from": s.score, "to": auto})
    s.override_score = None
    s.score = auto
    get_session().commit()
    flash(_("The manual score is removed; the grader's score applies again."), "ok")
    return redirect(url_for("staff.submission", submission_id=s.id))

