"""When a student may submit, and what they may see: deadlines, the late window, rate and count limits,
check visibility. Every refusal is a sentence for the student.

The late window (when late work is refused, and what it loses) is grader.lateness's rule.
"""
from __future__ import annotations

import datetime as dt
import functools

import sqlalchemy as sa
import sqlalchemy.orm as so
from markupsafe import Markup

from grader.config import Config
from grader.models import Assignment, Submission, User, utcnow
from grader.lateness import Window, window
from grader.service.deadlines import effective_deadline
from grader.web.db import get_session
from grader.spec import AssignmentSpec, SpecError, parse_spec
from grader.web.language import _, current_lang
from grader.web.markdown import render_markdown
from grader.web.timezones import local


@functools.lru_cache(maxsize=64)
def _spec(spec_hash: str, spec_yaml: str, assignment_id: str) -> AssignmentSpec:
    return parse_spec(spec_yaml, f"assignment {assignment_id}")


def spec_of(assignment: Assignment) -> AssignmentSpec:
    """The assignment's parsed spec, parsed once per version."""
    return _spec(assignment.spec_hash, assignment.spec_yaml, assignment.id)


def title_of(assignment: Assignment) -> str:
    """The assignment's title in the viewer's language, where its spec gives one (`translations:`)."""
    try:
        return spec_of(assignment).title_in(current_lang())
    except SpecError:
        return assignment.title


def description_of(assignment: Assignment) -> Markup:
    """The assignment's description in the viewer's language, its markdown rendered as safe HTML."""
    try:
        return render_markdown(spec_of(assignment).description_in(current_lang()))
    except SpecError:
        return Markup("")


def deadline_for(user_id: int, assignment: Assignment) -> dt.datetime | None:
    """The deadline that applies to this student: theirs if a TA granted an extension, else the assignment's."""
    return effective_deadline(get_session(), user_id, assignment)


def closed_sentence(assignment: Assignment, win: Window) -> str:
    """Why a closed assignment takes no more work (its page says it in place of the upload form)."""
    days = spec_of(assignment).late.max_days
    if not days:
        return _("Submissions for this assignment closed at the deadline, %(when)s: it takes no late work. Ask "
                 "your TA if you need an extension.", when=local(win.last_moment))
    return _("Submissions for this assignment closed on %(when)s (the deadline plus %(days)s late days). Ask your "
             "TA if you need an extension.", when=local(win.last_moment), days=days)


def refusal(session: so.Session, user: User, assignment: Assignment, cfg: Config,
            now: dt.datetime | None = None) -> tuple[str, int] | None:
    """Why this student may not submit now, with the HTTP status to answer; None when they may."""
    now = now or utcnow()
    if user.role == "student":
        win = window(spec_of(assignment).late, deadline_for(user.id, assignment), now)
        if win.state == "closed":
            return closed_sentence(assignment, win), 403
    # per assignment: a student finishing one homework is not held up by the one they submitted a minute ago
    last = session.scalar(sa.select(sa.func.max(Submission.submitted_at)).where(
        Submission.user_id == user.id, Submission.assignment_id == assignment.id))
    if last is not None and cfg.submit_interval_seconds:
        wait = (last + dt.timedelta(seconds=cfg.submit_interval_seconds) - now).total_seconds()
        if wait > 0:
            return (_("You submitted less than %(limit)s seconds ago. Wait %(wait)s s and submit again.",
                      limit=cfg.submit_interval_seconds, wait=max(1, round(wait))), 429)
    if cfg.max_submissions and user.role == "student":
        count = session.scalar(sa.select(sa.func.count()).select_from(Submission).where(
            Submission.user_id == user.id, Submission.assignment_id == assignment.id))
        if count >= cfg.max_submissions:
            return (_("You have used all %(max)s submissions for this assignment.", max=cfg.max_submissions),
                    429)
    return None


def check_open(visibility: str, staff: bool, deadline: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """Whether a check's result is shown: hidden ones only to staff; after_deadline ones once it passed."""
    if staff or visibility == "visible":
        return True
    return visibility == "after_deadline" and deadline is not None and (now or utcnow()) > deadline
