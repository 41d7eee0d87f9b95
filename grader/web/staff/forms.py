"""The staff's forms (Flask-WTF: each carries a CSRF token). Field checks only; rules live in the views."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, DateTimeLocalField, FloatField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from grader.web.language import lazy as _

REASON = [DataRequired(message=_("Give a reason: it is kept in the audit log.")), Length(max=2000)]


class OverrideForm(FlaskForm):
    score = FloatField(_("New score"), validators=[InputRequired(message=_("Enter a score.")),
                                                    NumberRange(min=0, message=_("A score cannot be negative."))])
    reason = TextAreaField(_("Reason"), validators=REASON)


class ReasonForm(FlaskForm):
    """A button that needs a reason (clear an override, withdraw an extension)."""

    reason = TextAreaField(_("Reason"), validators=REASON)


class RegradeForm(FlaskForm):
    which = HiddenField(default="one")


class ExtensionForm(FlaskForm):
    deadline = DateTimeLocalField(_("New deadline"), format="%Y-%m-%dT%H:%M",
                                  validators=[InputRequired(message=_("Enter the new deadline."))])
    reason = TextAreaField(_("Reason"), validators=REASON)
    # a date before the assignment's deadline takes time away (one wrong month in the pre-filled form)
    earlier = BooleanField(_("Yes, give this student a deadline earlier than the assignment's"))


class SpecUploadForm(FlaskForm):
    spec = FileField(_("assignment.yaml"))
    # its size: the view's, by the cap of an uploaded spec (grader.web.staff.manage.MAX_FILE_BYTES)
    text = TextAreaField(_("…or the spec as text"), validators=[Optional()])
    solution = FileField(_("solution.py (optional)"))
    mistakes = MultipleFileField(_("mistakes/*.py (optional, several)"))
    data = MultipleFileField(_("Data files the spec names: .csv or .csv.gz (optional, several)"))
    # what a refused upload received, sent back with the form so that the next try need not choose it again
    kept = HiddenField()


class SpecEditForm(FlaskForm):
    text = TextAreaField(_("assignment.yaml"), validators=[DataRequired()])  # its size: as SpecUploadForm's


class ActionForm(FlaskForm):
    """A plain button (publish, unpublish, discard, dry run), protected by its CSRF token."""
