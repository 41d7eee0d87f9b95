"""The student's pages: assignments, upload, a submission's live status and feedback, history, source."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("student", __name__)

from grader.web.student import pages, submission  # noqa: E402,F401 - the views register on bp
