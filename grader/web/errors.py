"""Error pages: a sentence and a way back for people, JSON for /api/; never a traceback.

An outage of the database is not a bug: it is answered 503 with Retry-After (RETRY_AFTER_SECONDS), which
`grader submit` and well-behaved clients wait for and retry.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from grader.db import DATABASE_DOWN
from grader.i18n import N_
from grader.web.language import _

TITLES = {400: N_("Bad request"), 404: N_("Not found"), 405: N_("Not allowed"), 413: N_("Too large"),
          429: N_("Too many requests"), 500: N_("Something went wrong"), 503: N_("Briefly unavailable")}
MESSAGES = {
    400: N_("The request could not be understood."),
    404: N_("There is nothing here, or it is not yours to see."),
    405: N_("This page cannot be used that way."),
    429: N_("Too many requests. Wait a moment and try again."),
    500: N_("Something went wrong on our side. Nothing you did caused it; please try again in a moment."),
    503: N_("The grader is briefly unavailable (its database does not answer). Nothing you sent before was "
            "lost; please try again in a minute."),
}
RETRY_AFTER_SECONDS = 30
log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.endswith("/status")


def _page(code: int, message: str | None = None):
    # any other 4xx gets the 400 sentence: werkzeug's own descriptions are English only
    text = message or _(MESSAGES.get(code, MESSAGES[400] if code < 500 else MESSAGES[500]))
    if _wants_json():
        return jsonify(error=text), code
    return render_template("error.html", title=_(TITLES.get(code, N_("Error"))), message=text,
                           back_to=""), code  # back_to: an error page never echoes the path it was asked for


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        return _page(400, _("This form had expired or was missing its security token. Nothing was changed; "
                            "go back, reload the page and try again."))

    for code in (400, 404, 405, 429):
        app.register_error_handler(code, lambda exc, code=code: _page(code))

    @app.errorhandler(413)
    def _too_large(_exc):  # the student's and staff's upload forms answer this on their own page first
        kb = app.config["GRADER"].max_upload_bytes // 1024
        return _page(413, _("The upload is larger than %(kb)s KB; a homework script is a few KB.", kb=kb))

    @app.errorhandler(500)
    def _internal(_exc):
        return _page(500)

    def _database_down(exc):
        log.warning("database unavailable: %s: %s", type(exc).__name__, str(exc).splitlines()[0][:300])
        body, code = _page(503)
        return body, code, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    for error in DATABASE_DOWN:
        app.register_error_handler(error, _database_down)

    @app.errorhandler(HTTPException)
    def _other(exc: HTTPException):
        return _page(exc.code or 500)
