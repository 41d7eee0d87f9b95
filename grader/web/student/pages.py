"""Assignment list, an assignment's page with the upload form, and the history of one's submissions."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from grader.lateness import window
from grader.models import Assignment, Submission, User
from grader.service.standings import Standing, standings
from grader.source_text import GB18030
from grader.submissions import SubmissionError, Upload, UploadTooLarge, accept, enqueue, largest_upload, upload_limit
from grader.web.db import get_session, sender
from grader.web.forms import UploadForm
from grader.web.language import _, current_lang
from grader.web.student import bp
from grader.web.student.present import scores_of_user, shown_scores
from grader.web.student.rules import closed_sentence, deadline_for, description_of, refusal, spec_of, title_of


def visible_assignment(assignment_id: str) -> Assignment:
    """The assignment, or 404 when it does not exist or is not published (students)."""
    assignment = get_session().get(Assignment, assignment_id)
    if assignment is None or (not assignment.published and not current_user.is_staff):
        abort(404)
    return assignment


@bp.get("/")
@login_required
def home():
    return redirect(url_for("student.assignments"))


@bp.get("/assignments")
@login_required
def assignments():
    query = sa.select(Assignment)
    if not current_user.is_staff:
        query = query.where(Assignment.published.is_(True))
    rows = get_session().scalars(query.order_by(Assignment.deadline.is_(None), Assignment.deadline, Assignment.id))
    # best and latest by the scores this viewer may see (grader.visibility)
    shown = scores_of_user(current_user.id, current_user.is_staff)
    mine = standings(get_session(), user_id=current_user.id, shown={k: v and v.points for k, v in shown.items()})
    items = [(a, window(spec_of(a).late, deadline_for(current_user.id, a)), mine.get((current_user.id, a.id), Standing()))
             for a in rows]
    return render_template("student/assignments.html", items=items, shown=shown)


def render_assignment(assignment: Assignment, form: UploadForm, error: str | None = None, status: int = 200):
    spec = spec_of(assignment)
    recent = get_session().scalars(
        sa.select(Submission).where(Submission.user_id == current_user.id, Submission.assignment_id == assignment.id)
        .order_by(Submission.submitted_at.desc()).limit(5)).all()
    win = window(spec.late, deadline_for(current_user.id, assignment))
    closed = closed_sentence(assignment, win) if win.state == "closed" and not current_user.is_staff else None
    return render_template("student/assignment.html", assignment=assignment, spec=spec, form=form, error=error,
                           win=win, closed=closed, recent=recent,
                           shown=shown_scores(recent, current_user.is_staff),
                           max_kb=current_app.config["GRADER"].max_upload_bytes // 1024,
                           max_bytes=current_app.config["GRADER"].max_upload_bytes,
                           max_notebook_bytes=largest_upload(current_app.config["GRADER"].max_upload_bytes)), status


def _upload_from(form: UploadForm, limit: int) -> Upload | tuple[str, int]:
    """The uploaded file or the pasted code, accepted (grader.submissions), or a sentence saying what is wrong
    and the status to answer with."""
    upload = form.file.data
    has_file = upload is not None and bool(getattr(upload, "filename", ""))
    pasted = (form.code.data or "").replace("\r\n", "\n")
    if has_file and pasted.strip():
        return _("Upload a file or paste your code, not both."), 400
    if not has_file and not pasted.strip():
        return _("Choose a .py or .ipynb file or paste your code."), 400
    # read one byte past the cap, not the whole stream, to tell that it is too large
    data, filename = ((upload.stream.read(upload_limit(upload.filename, limit) + 1), upload.filename) if has_file
                      else (pasted.encode("utf-8"), "pasted.py"))
    try:
        return accept(data, filename, limit)
    except SubmissionError as exc:
        return exc.render(current_lang()), 413 if isinstance(exc, UploadTooLarge) else 400


# the assignment's words in the viewer's language, on every page that names an assignment
bp.add_app_template_filter(title_of, "title_of")
bp.add_app_template_filter(description_of, "description_of")


@bp.route("/assignments/<assignment_id>", methods=["GET", "POST"])
@login_required
def assignment(assignment_id: str):
    assignment = visible_assignment(assignment_id)
    form = UploadForm()
    if request.method == "GET":
        return render_assignment(assignment, form)
    if not form.validate_on_submit():
        return render_assignment(assignment, form, _("The form was incomplete; please try again."), 400)
    cfg = current_app.config["GRADER"]
    found = _upload_from(form, cfg.max_upload_bytes)
    if isinstance(found, tuple):
        return render_assignment(assignment, form, *found)
    session = get_session()
    user = session.get(User, current_user.id)
    refused = refusal(session, user, assignment, cfg)
    if refused:
        return render_assignment(assignment, form, refused[0], refused[1])
    submission = enqueue(session, user, assignment.id, found, sender().send)
    flash(_("Submitted. Grading usually takes a few seconds."), "ok")
    if found.encoding == GB18030:
        flash(_("Your file was saved in the GBK (GB18030) encoding; it was converted to UTF-8. Chinese "
                "comments and prints are kept."), "ok")
    return redirect(url_for("student.submission", submission_id=submission.id))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc):
    assignment_id = (request.view_args or {}).get("assignment_id")
    kb = current_app.config["GRADER"].max_upload_bytes // 1024
    message = _("The upload is larger than %(kb)s KB; a homework script is a few KB.", kb=kb)
    if request.endpoint != "student.assignment" or not current_user.is_authenticated:
        return render_template("error.html", title=_("Too large"), message=message), 413
    return render_assignment(visible_assignment(assignment_id), UploadForm(formdata=None), message, 413)


@bp.errorhandler(CSRFError)
def _csrf(_exc):
    message = _("This form had expired or was missing its security token. Nothing was submitted; "
                "please submit again.")
    if request.endpoint != "student.assignment" or not current_user.is_authenticated:
        return render_template("error.html", title=_("Form expired"), message=message), 400
    return render_assignment(visible_assignment(request.view_args["assignment_id"]), UploadForm(), message, 400)


@bp.get("/assignments/<assignment_id>/history")
@login_required
def history(assignment_id: str):
    assignment = visible_assignment(assignment_id)
    rows = get_session().scalars(
        sa.select(Submission).where(Submission.user_id == current_user.id, Submission.assignment_id == assignment.id)
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())).all()
    return render_template("student/history.html", assignment=assignment, submissions=rows,
                           shown=shown_scores(rows, current_user.is_staff))
