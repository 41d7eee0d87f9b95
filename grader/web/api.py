"""The JSON API: token-authenticated submission upload and status (`Authorization: Bearer <token>`), the
assignment list, and its OpenAPI description (/api/openapi.json). Same ownership rules and submission limits
as the pages; every error is JSON `{"error": "..."}`."""
from __future__ import annotations

import functools

import sqlalchemy as sa
from sqlalchemy.orm import object_session
from flask import Blueprint, current_app, g, jsonify, request, url_for

from grader.messages import render
from grader.i18n import choose
from grader.models import STAFF_ROLES, Assignment, Submission, User
from grader.visibility import shown
from grader.service import audit
from grader.service.accounts import user_for_token
from grader.service.deadlines import effective_deadline
from grader.submissions import SubmissionError, UploadTooLarge, accept, enqueue, upload_limit
from grader.web import openapi
from grader.web.db import get_session, sender
from grader.web.student.present import spec_facts

bp = Blueprint("api", __name__, url_prefix="/api")


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


def api_language() -> str:
    """The language of messages in the answer: ?lang=, else the token's user's setting, else Accept-Language,
    else the course default. (Error texts stay English: they are for programs and their authors; only a refused
    upload's sentence, which says what to fix in the student's own file, comes in this language.)"""
    return choose((request.args.get("lang"), g.user.language), request.accept_languages,
                  current_app.config["GRADER"].default_language)


@bp.post("/submissions")
@token_required
def create_submission():
    cfg = current_app.config["GRADER"]
    upload = request.files.get("file")
    assignment_id = request.form.get("assignment", "")
    if upload is None:
        return jsonify(error="attach the script as the multipart field 'file'"), 400
    if not assignment_id:
        return jsonify(error="name the assignment in the form field 'assignment'"), 400
    session = get_session()
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or (not assignment.published and g.user.role not in STAFF_ROLES):
        return jsonify(error=f"unknown assignment {assignment_id!r}"), 400  # a bad form field, not a bad URL
    try:
        accepted = accept(upload.read(upload_limit(upload.filename, cfg.max_upload_bytes) + 1), upload.filename,
                          cfg.max_upload_bytes)
    except SubmissionError as exc:
        return jsonify(error=exc.render(api_language())), 413 if isinstance(exc, UploadTooLarge) else 400
    # the pages' rules: closed after the last late day, one submission per interval, a per-assignment maximum
    from grader.web.student.rules import refusal

    refused = refusal(session, g.user, assignment, cfg)
    if refused:
        return jsonify(error=refused[0]), refused[1]
    submission = enqueue(session, g.user, assignment_id, accepted, sender().send)
    url = url_for("api.get_submission", submission_id=submission.id)
    return jsonify(id=submission.id, status=submission.status, url=url), 202, {"Location": url}


@bp.get("/submissions/<int:submission_id>")
@token_required
def get_submission(submission_id: int):
    submission = get_session().get(Submission, submission_id)
    user: User = g.user
    if submission is None or (submission.user_id != user.id and user.role not in STAFF_ROLES):
        return jsonify(error="no such submission"), 404
    return jsonify(submission_json(submission, staff=user.role in STAFF_ROLES, lang=api_language()))


@bp.get("/assignments")
@token_required
def list_assignments():
    """The assignments this user may submit to, with their own deadline."""
    session = get_session()
    query = sa.select(Assignment)
    if g.user.role not in STAFF_ROLES:
        query = query.where(Assignment.published.is_(True))
    items = []
    for a in session.scalars(query.order_by(Assignment.deadline.is_(None), Assignment.deadline, Assignment.id)):
        deadline = effective_deadline(session, g.user.id, a)
        items.append({"id": a.id, "title": a.title, "version": a.version, "published": a.published,
                      "deadline": deadline.isoformat() if deadline else None,
                      "url": url_for("student.assignment", assignment_id=a.id)})
    return jsonify(assignments=items)


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi.document())


@bp.errorhandler(404)
def _not_found(_exc):
    return jsonify(error="not found"), 404


@bp.errorhandler(405)
def _not_allowed(_exc):
    return jsonify(error="method not allowed"), 405


def submission_json(s: Submission, staff: bool, lang: str = "en") -> dict:
    """A submission as its owner (or staff) sees it (grader.visibility): closed checks show only that they
    exist, and no score, diagnosis or message depends on one."""
    held_out, autograd = spec_facts(s)
    seen = shown(s, staff, effective_deadline(object_session(s), s.user_id, s.assignment), held_out, autograd)
    checks = []
    for c in seen.checks:
        row = c.row
        item = {"id": row.check_id, "kind": row.kind, "max_points": row.max_points, "visibility": row.visibility}
        if c.open:
            item.update(passed=row.passed, points=row.points)
        item.update(code=c.code, message=render(c.code, c.params, lang))
        checks.append(item)
    graded = s.status == "graded"
    score = seen.score
    return {
        "id": s.id, "assignment": s.assignment_id, "filename": s.filename, "status": s.status,
        "submitted_at": s.submitted_at.isoformat(),
        "finished_at": s.finished_at.isoformat() if s.finished_at else None,
        "score": score.points if score else None, "max_score": score.max_points if score else None,
        "points_not_shown": score.not_shown if score else None,
        "override": override_json(s, score),
        "late_penalty": s.late_penalty, "checks": checks,
        "url": url_for("api.get_submission", submission_id=s.id),
        "page": url_for("student.submission", submission_id=s.id),
        "diagnoses": [{"code": d["code"], "message": render(d["code"], d.get("params", {}), lang)}
                      for d in seen.diagnoses] if graded else [],
        "stdout": s.stdout_excerpt if graded else "",
        "error": "grading failed for a reason on our side; staff have been told" if s.status == "failed" else None,
    }


def override_json(s: Submission, score) -> dict | None:
    """A TA's override as the page shows it: that staff set the score, why (written for the student), and the
    grader's own score by the same visibility rule as `score`; None without one."""
    if score is None or not score.set_by_staff:
        return None
    own = score.graders
    return {"set_by_staff": True, "reason": audit.override_reason(object_session(s), s.id),
            "graders_score": own.points, "graders_max_score": own.max_points,
            "graders_points_not_shown": own.not_shown}
