"""/healthz: is the database reachable (and the broker, for information)."""
from __future__ import annotations

from flask import Blueprint, jsonify

from grader.db import DatabaseError
from grader.web.db import database, sender

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        database().ping()
        db_state = "ok"
    except DatabaseError:
        db_state = "unavailable"
    # submissions are still accepted while the broker is down (the reaper sends them later): report, don't fail
    broker_state = "ok" if sender().ping() else "unavailable"
    status = 200 if db_state == "ok" else 503
    return jsonify(status="ok" if status == 200 else "unavailable", database=db_state, broker=broker_state), status
