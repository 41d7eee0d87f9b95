"""Request-scoped database sessions for the web app."""
from __future__ import annotations

import sqlalchemy.orm as so
from flask import Flask, current_app, g

from grader.db import Database
from grader.submissions import Sender


def database() -> Database:
    return current_app.extensions["grader.db"]


def sender() -> Sender:
    return current_app.extensions["grader.sender"]


def get_session() -> so.Session:
    """This request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = database().sessions()
    return g.db_session


def _close_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close_session)
