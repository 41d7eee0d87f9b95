"""One submission: its page, its live status (JSON, long-polled by static/app.js), its source, its plots (SVG)."""
from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Response, abort, jsonify, render_template, request
from flask_login import current_user, login_required
from markupsafe import Markup

from grader.models import Submission
from grader.service.attempts import STDOUT_EXCERPT_CHARS
from grader.service.queue import place_in_queue, position_in_queue
from grader.web import plots
from grader.web.db import database, get_session
from grader.web.notebook_view import outputs_by_cell, shown_cells
from grader.web.security import SVG_POLICY
from grader.web.student import bp
from grader.web.student.present import present
from grader.web.language import current_lang, queue_note, status_word

LONG_POLL_SECONDS = 25.0  # under the usual 30 s proxy read timeout
LONG_POLL_STEP_SECONDS = 0.05  # a primary-key read: cheap, and half of it is what a result waits on average


# the output shown on the page: its first and last lines matter (the prediction after training is printed
# last), so a long output shows its head and its tail, and links to the whole
HEAD_CHARS = 6000
TAIL_CHARS = 6000


def output_parts(text: str) -> tuple[str, int, str]:
    """(head, characters left out, tail) of a script's output as the page shows it; whole lines where it can."""
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        return text, 0, ""
    head, tail = text[:HEAD_CHARS], text[-TAIL_CHARS:]
    if "\n" in head:
        head = head[:head.rindex("\n") + 1]
    if "\n" in tail[:-1]:
        tail = tail[tail.index("\n") + 1:]
    return head, len(text) - len(head) - len(tail), tail


@bp.app_context_processor
def _stdout_cap() -> dict:
    return {"stdout_cap": STDOUT_EXCERPT_CHARS, "outputs_by_cell": outputs_by_cell, "output_parts": output_parts}


def owned_submission(submission_id: int) -> Submission:
    """The submission if the viewer owns it (staff see all); 404 otherwise, never 403: ids are not confirmed."""
    submission = get_session().get(Submission, submission_id)
    if submission is None or (submission.user_id != current_user.id and not current_user.is_staff):
        abort(404)
    return submission


@bp.get("/submissions/<int:submission_id>")
@login_required
def submission(submission_id: int):
    view = present(owned_submission(submission_id), current_user.is_staff)
    place = place_in_queue(get_session(), view.submission)
    return render_template("student/submission.html", view=view, s=view.submission, place=place)


@bp.get("/submissions/<int:submission_id>/status")
@login_required
def status(submission_id: int):
    """The submission's status; with ?known=STATUS&wait=S, answers when the status differs from STATUS (or, with
    &place=N, its place in the queue differs from N) or after S seconds (at most LONG_POLL_SECONDS): the page
    learns of a result as it is written, and of its way up the queue."""
    s = owned_submission(submission_id)
    known, wait = request.args.get("known"), request.args.get("wait", type=float)
    if known == s.status and wait and s.status in ("queued", "running"):
        get_session().rollback()  # hold no transaction (on SQLite: no write lock) while waiting
        _wait_for_change(submission_id, known, request.args.get("place", type=int),
                         min(max(wait, 0.0), LONG_POLL_SECONDS))
        s = owned_submission(submission_id)
    view = present(s, current_user.is_staff)
    shown = view.score  # grader.visibility: never a closed check's points
    place = place_in_queue(get_session(), s)
    body = {"id": s.id, "status": s.status, "status_label": status_word(s.status), "final": view.final,
            "score": shown.points if shown else None, "max_score": shown.max_points if shown else None,
            "points_not_shown": shown.not_shown if shown else None, "html": None,
            "place": place.position if place else None, "queue_note": queue_note(place)}
    if view.final:
        body["html"] = render_template("student/_results.html", view=view, s=s)
    return jsonify(body)


def _wait_for_change(submission_id: int, known: str, known_place: int | None, seconds: float) -> None:
    """Return when the submission's status is no longer `known` (or its place in the queue no longer
    `known_place`), or after `seconds`; each look is its own short transaction."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with database().session() as session:
            s = session.get(Submission, submission_id)
            if s is None or s.status != known:
                return
            if known_place is not None and s.status == "queued" and position_in_queue(session, s) != known_place:
                return
        time.sleep(LONG_POLL_STEP_SECONDS)


@bp.get("/submissions/<int:submission_id>/source")
@login_required
def source(submission_id: int):
    s = owned_submission(submission_id)
    return render_template("student/source.html", s=s, lines=s.source.split("\n"), cells=shown_cells(s))


@bp.get("/submissions/<int:submission_id>/output.txt")
@login_required
def output(submission_id: int):
    """The script's whole kept output, as plain text (never rendered as a page)."""
    s = owned_submission(submission_id)
    response = Response(s.stdout_excerpt or "", mimetype="text/plain")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _plot_svg(view, name: str) -> bytes | None:
    s = view.submission
    return plots.render_cached(s.id, s.finished_at.isoformat() if s.finished_at else "", name, view.series,
                               current_lang())


@bp.app_template_global()
def inline_plot(view, name: str) -> Markup:
    """A plot inside the page (and inside the live status's results), so it arrives with the score, not in a
    second round of requests. grader.web.plots writes it from escaped text and numbers only."""
    svg = _plot_svg(view, name) if view.series and name in dict(view.plots) else None
    return Markup(svg.decode()) if svg else Markup()


@bp.get("/submissions/<int:submission_id>/plots/<name>.svg")
@login_required
def plot(submission_id: int, name: str):
    s = owned_submission(submission_id)
    view = present(s, current_user.is_staff)
    if not view.series or name not in dict(view.plots):
        abort(404)
    svg = _plot_svg(view, name)
    if svg is None:
        abort(404)
    response = Response(b'<?xml version="1.0" encoding="utf-8"?>\n' + svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
