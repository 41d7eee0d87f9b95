"""The pages' forms (Flask-WTF: each carries a CSRF token). Field checks only; rules that need the database
(deadlines, rate limits) live in grader.web.student.rules."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from grader.i18n import LANGUAGES
from grader.web.language import lazy as _

MAX_FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the other fields, on top of the file itself


class LoginForm(FlaskForm):
    username = StringField(_("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_("Password"), validators=[DataRequired(), Length(max=1024)])


class PasswordForm(FlaskForm):
    current = PasswordField(_("Current password"), validators=[DataRequired(), Length(max=1024)])
    new = PasswordField(_("New password"), validators=[DataRequired(), Length(min=8, max=1024, message=_("At least 8 characters."))])
    repeat = PasswordField(_("New password again"),
                           validators=[DataRequired(), EqualTo("new", message=_("The two new passwords differ."))])


class PostForm(FlaskForm):
    """A form with no fields: a button that changes something (log out), protected by its CSRF token."""


class UploadForm(FlaskForm):
    file = FileField(_("Your script (.py) or notebook (.ipynb)"))
    code = TextAreaField(_("…or paste your code"))


def _language_choices() -> list[SelectChoice]:
    return [SelectChoice(code, name) for code, name in LANGUAGES.items()]


class SettingsForm(FlaskForm):
    language = SelectField(_("Language"), validate_choice=True)
    timezone = SelectField(_("Time zone"), validate_choice=True)

    def __init__(self, zones: list[str], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = [SelectChoice("", _("My browser's language")), *_language_choices()]
        self.timezone.choices = [SelectChoice("", _("My browser's time zone"))] + [SelectChoice(z) for z in zones]


class LanguageForm(FlaskForm):
    """The language switch on every page: one button per language, and the page to go back to."""

    language = SelectField(choices=_language_choices(), validate_choice=True)
    next = HiddenField()
