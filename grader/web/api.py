"""The JSON API: token-authenticated submission upload and status (`Authorization: Bearer <token>`)."""
from __future__ import annotations

import functools

from flask import Blueprint, g, jsonify, request, url_for

from grader.feedback import render
from grader.models import Submission, User, utcnow
from grader.service.accounts import user_for_token
from grader.submissions import SubmissionError, decode_source, store
from grader.web.db import get_session, sender

bp = Blueprint("api", __name__, url_prefix="/api")
STAFF = ("ta", "instructor")


def token_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        user = user_for_token(get_session(), token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            return jsonify(error="missing or invalid API token (send 'Authorization: Bearer <token>')"), 401
        g.user = user
        return view(*args, **kwargs)

    return wrapped


@bp.post("/submissions")
@token_required
def create_submission():
    upload = request.files.get("file")
    assignment_id = request.form.get("assignment", "")
    if upload is None:
        return jsonify(error="attach the script as the multipart field 'file'"), 400
    if not assignment_id:
        return jsonify(error="name the assignment in the form field 'assignment'"), 400
    session = get_session()
    try:
        source = decode_source(upload.read())
        submission = store(session, g.user, assignment_id, source, upload.filename or "submission.py")
        session.commit()  # committed before the task is sent: a worker must find the row
    except SubmissionError as exc:
        session.rollback()
        return jsonify(error=str(exc)), 400
    sender().send(submission.id)
    url = url_for("api.get_submission", submission_id=submission.id)
    return jsonify(id=submission.id, status=submission.status, url=url), 202, {"Location": url}


@bp.get("/submissions/<int:submission_id>")
@token_required
def get_submission(submission_id: int):
    submission = get_session().get(Submission, submission_id)
    user: User = g.user
    if submission is None or (submission.user_id != user.id and user.role not in STAFF):
        return jsonify(error="no such submission"), 404
    return jsonify(submission_json(submission, staff=user.role in STAFF))


def _shown(visibility: str, staff: bool, deadline) -> bool:
    if staff or visibility == "visible":
        return True
    return visibility == "after_deadline" and deadline is not None and utcnow() > deadline


def submission_json(s: Submission, staff: bool, lang: str = "en") -> dict:
    """A submission as its owner (or staff) sees it; hidden checks show only that they exist."""
    deadline = s.assignment.deadline
    checks = []
    for c in s.checks:
        item = {"id": c.check_id, "kind": c.kind, "max_points": c.max_points, "visibility": c.visibility}
        if _shown(c.visibility, staff, deadline):
            item.update(passed=c.passed, points=c.points, code=c.message_code,
                        message=render(c.message_code, c.message_params, lang))
        else:
            code = "check.hidden" if c.visibility == "hidden" else "check.after_deadline"
            item.update(code=code, message=render(code, {}, lang))
        checks.append(item)
    graded = s.status == "graded"
    return {
        "id": s.id, "assignment": s.assignment_id, "filename": s.filename, "status": s.status,
        "submitted_at": s.submitted_at.isoformat(),
        "finished_at": s.finished_at.isoformat() if s.finished_at else None,
        "score": s.score if graded else None, "max_score": s.max_score if graded else None,
        "late_penalty": s.late_penalty, "checks": checks,
        "diagnoses": [{"code": d["code"], "message": render(d["code"], d.get("params", {}), lang)}
                      for d in (s.diagnoses or [])] if graded else [],
        "stdout": s.stdout_excerpt if graded else "",
        "error": "grading failed for a reason on our side; staff have been told" if s.status == "failed" else None,
    }
