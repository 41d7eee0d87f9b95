"""One student on one assignment: their submissions, their deadline, and granting or withdrawing an extension
(late penalties and after_deadline checks follow the student's own deadline; their graded work is re-priced)."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from grader.models import Submission, User
from grader.service import audit, deadlines
from grader.web.db import get_session
from grader.web.staff import bp
from grader.web.staff.common import assignment_or_404, record, staff_required
from grader.web.staff.forms import ExtensionForm, ReasonForm
from grader.lateness import window
from grader.web.language import _, ngettext
from grader.web.student.rules import spec_of
from grader.web.timezones import local, viewer_zone


def student_or_404(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None or user.role != "student":
        abort(404)
    return user


def render_student(a, student, form: ExtensionForm | None = None, revoke: ReasonForm | None = None, status: int = 200,
                   costs: list | None = None):
    """The student's page; `costs`: set when an earlier deadline awaits confirmation (what it does to each
    graded submission, from grader.service.deadlines.costs)."""
    session = get_session()
    ext = deadlines.extension_for(session, student.id, a.id)
    subs = session.scalars(sa.select(Submission).where(Submission.user_id == student.id,
                                                       Submission.assignment_id == a.id)
                           .order_by(Submission.submitted_at.desc(), Submission.id.desc())).all()
    deadline = ext.deadline if ext else a.deadline
    if form is None:
        start = (deadline or dt.datetime.now(dt.timezone.utc)).astimezone(viewer_zone()).replace(tzinfo=None)
        form = ExtensionForm(formdata=None, data={"deadline": start})
    granter = session.get(User, ext.granted_by) if ext and ext.granted_by else None
    return render_template("staff/student.html", a=a, student=student, ext=ext, granter=granter, subs=subs,
                           win=window(spec_of(a).late, deadline), form=form, revoke=revoke or ReasonForm(formdata=None),
                           zone=str(viewer_zone()), costs=costs,
                           log=[e for e in audit.entries(session, assignment_id=a.id) if e.student_id == student.id]
                           ), status


@bp.get("/assignments/<assignment_id>/students/<int:user_id>")
@staff_required
def student(assignment_id: str, user_id: int):
    return render_student(assignment_or_404(assignment_id), student_or_404(user_id))


@bp.post("/assignments/<assignment_id>/students/<int:user_id>/extension")
@staff_required
def grant_extension(assignment_id: str, user_id: int):
    a, student_ = assignment_or_404(assignment_id), student_or_404(user_id)
    form = ExtensionForm()
    if not form.validate_on_submit():
        return render_student(a, student_, form=form, status=400)
    # the form's wall-clock time is read in the viewer's zone
    try:
        deadline = form.deadline.data.replace(tzinfo=viewer_zone()).astimezone(dt.timezone.utc)
    except (OverflowError, ValueError):
        deadline = None
    if deadline is None or not 2000 <= deadline.year <= 2200:
        form.deadline.errors = [_("Enter a date between the years 2000 and 2200.")]
        return render_student(a, student_, form=form, status=400)
    session = get_session()
    earlier = a.deadline is not None and deadline < a.deadline
    costs = deadlines.costs(session, spec_of(a), student_.id, a.id, deadline) if earlier else []
    if earlier and not form.earlier.data:
        form.deadline.errors = [_("%(when)s is before the assignment's deadline (%(deadline)s): it takes time away "
                                  "from this student. Check the date, or confirm below.",
                                  when=local(deadline), deadline=local(a.deadline))]
        return render_student(a, student_, form=form, status=400, costs=costs)
    before = deadlines.extension_for(session, student_.id, a.id)
    previous = before.deadline.isoformat() if before else (a.deadline.isoformat() if a.deadline else None)
    try:
        _ext, repriced = deadlines.grant(session, spec_of(a), a, student_, deadline, form.reason.data.strip(),
                                         current_user.id)
    except deadlines.ExtensionError as exc:
        form.deadline.errors = [str(exc)]
        return render_student(a, student_, form=form, status=400)
    record("extension", assignment_id=a.id, student_id=student_.id, reason=form.reason.data.strip(),
           details={"from": previous, "to": deadline.isoformat(), "repriced": repriced,
                    **({"costs": [{"id": sub.id, "from": was, "to": then} for sub, was, then in costs]}
                       if earlier else {})})
    session.commit()
    flash(_("%(name)s's deadline is now %(when)s.", name=student_.display_name or student_.username,
            when=local(deadline)) + " " + ngettext("%(num)s graded submission re-priced.",
                                                  "%(num)s graded submissions re-priced.", repriced), "ok")
    return redirect(url_for("staff.student", assignment_id=a.id, user_id=student_.id))


@bp.post("/assignments/<assignment_id>/students/<int:user_id>/extension/revoke")
@staff_required
def revoke_extension(assignment_id: str, user_id: int):
    a, student_ = assignment_or_404(assignment_id), student_or_404(user_id)
    form = ReasonForm()
    session = get_session()
    ext = deadlines.extension_for(session, student_.id, a.id)
    if ext is None:
        return redirect(url_for("staff.student", assignment_id=a.id, user_id=student_.id))
    if not form.validate_on_submit():
        return render_student(a, student_, revoke=form, status=400)
    previous = ext.deadline.isoformat()
    repriced = deadlines.revoke(session, spec_of(a), a, student_.id)
    record("extension_revoked", assignment_id=a.id, student_id=student_.id, reason=form.reason.data.strip(),
           details={"from": previous, "to": a.deadline.isoformat() if a.deadline else None, "repriced": repriced})
    session.commit()
    flash(_("The extension is withdrawn; the assignment's deadline applies again."), "ok")
    return redirect(url_for("staff.student", assignment_id=a.id, user_id=student_.id))

