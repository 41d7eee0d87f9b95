"""The web app factory: configuration, database, broker sender, one blueprint per concern."""
from __future__ import annotations

import secrets
from typing import Mapping

from flask import Flask, current_app, request

from grader.config import Config
from grader.db import Database
from grader.submissions import Sender, largest_upload, sender_app
from grader.web import (api, auth, db as web_db, errors, health, language, metrics_view, security, staff, student,
                        timezones)
from grader.web.forms import MAX_FORM_OVERHEAD



def create_app(config: Config | Mapping | None = None) -> Flask:
    """Build the app. `config`: a Config, a mapping of Config fields overriding the environment, or None."""
    if isinstance(config, Config):
        cfg = config
    else:
        cfg = Config.from_env(**dict(config or {}))
    cfg.require_secret_key()
    app = Flask(__name__)
    app.config.update(
        GRADER=cfg,
        # development without a key gets a random one: sessions simply end with the process
        SECRET_KEY=cfg.secret_key or secrets.token_hex(32),
        MAX_CONTENT_LENGTH=cfg.max_upload_bytes + MAX_FORM_OVERHEAD,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cfg.production,
    )
    app.json.sort_keys = False
    app.extensions["grader.db"] = Database(cfg.database_url)
    app.extensions["grader.sender"] = Sender(sender_app(cfg))
    web_db.init_app(app)
    app.before_request(_upload_cap)  # first: CSRF and the sessions read the form
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics_view.bp)
    app.register_blueprint(api.bp)
    # the pages: CSRF on every form (the token API is exempt: it authenticates with a bearer header, which
    # a browser never sends on its own), sessions, error pages, then the student's blueprint
    security.init_app(app, cfg)
    security.csrf.exempt(api.bp)
    language.init_app(app)
    timezones.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    app.register_blueprint(student.bp)
    app.register_blueprint(staff.bp)

    return app


UPLOAD_ENDPOINTS = ("student.assignment", "api.create_submission")


def _upload_cap() -> None:
    """The upload routes take a request as large as a notebook with its images (grader.submissions checks each
    file against its own cap); every other request keeps MAX_CONTENT_LENGTH."""
    if request.endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        request.max_content_length = largest_upload(current_app.config["GRADER"].max_upload_bytes) + MAX_FORM_OVERHEAD
