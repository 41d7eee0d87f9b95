"""What every staff view needs: the role guards, the acting user, lookups that 404, sending tasks by name."""
from __future__ import annotations

import logging

from flask import abort
from flask_login import current_user

from grader.models import STAFF_ROLES, Assignment, Submission
from grader.service import audit
from grader.web.auth import role_required
from grader.web.db import get_session, sender
from grader.web.staff import bp

staff_required = role_required(*STAFF_ROLES)
instructor_required = role_required("instructor")
log = logging.getLogger(__name__)


def assignment_or_404(assignment_id: str) -> Assignment:
    assignment = get_session().get(Assignment, assignment_id)
    if assignment is None:
        abort(404)
    return assignment


def submission_or_404(submission_id: int) -> Submission:
    submission = get_session().get(Submission, submission_id)
    if submission is None:
        abort(404)
    return submission


def record(action: str, **fields) -> None:
    """An audit entry by the current user (committed with the change by the caller)."""
    audit.record(get_session(), current_user.id, current_user.username, action, **fields)


def send_task(name: str, args: list) -> bool:
    """Send a worker task by name (the web never imports the task code); False when the broker refused."""
    send = getattr(sender(), "send_task", None)
    if send is None:
        return False
    return bool(send(name, args))


def send_grades(ids: list[int]) -> int:
    return sum(1 for i in ids if sender().send(i))


@bp.app_template_global("audit_names")
def _audit_names(log) -> dict[int, tuple[str, str]]:
    # a global, not a context value: the audit table is an imported macro. It names the student an entry is on.
    return audit.student_names(get_session(), log)
