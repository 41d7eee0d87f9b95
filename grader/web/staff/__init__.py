"""The staff's pages (roles ta and instructor): dashboards, drill-down, regrades, overrides, extensions,
exports; and the instructor's assignment management. Anyone else gets 404 on every route here."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

# the views register on bp
from grader.web.staff import dashboard, manage, students, submissions  # noqa: E402,F401
