"""Accounts on the pages: Flask-Login sessions, log in (rate limited) and out, roles, the viewer's settings."""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, abort, current_app, flash, g, jsonify, redirect, render_template, request,
                   session, url_for)
from flask_limiter.errors import RateLimitExceeded
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from grader.models import STAFF_ROLES, User
from grader.service.accounts import check_password, find_user, hash_password
from grader.web.db import get_session
from grader.web.forms import LanguageForm, LoginForm, PostForm, SettingsForm
from grader.web.security import rate_limit
from grader.web.text import LANG_COOKIE, _
from grader.web.timezones import TZ_COOKIE, valid_zone, zone_names

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
LOGIN_LIMIT = "10 per minute; 100 per day"  # per client address, counted on every login attempt
_DUMMY_HASH = hash_password("not a real password; verified so unknown names take as long as known ones")


@dataclass
class Viewer(UserMixin):
    """The logged-in user as the pages see them (a plain copy: no database session is held across requests)."""

    id: int
    username: str
    display_name: str
    role: str
    timezone: str | None
    language: str | None
    stamp: str

    @classmethod
    def of(cls, user: User) -> "Viewer":
        return cls(user.id, user.username, user.display_name or user.username, user.role, user.timezone,
                   user.language, _stamp(user))

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def get_id(self) -> str:
        return f"{self.id}.{self.stamp}"


def _stamp(user: User) -> str:
    """Part of the session's user id: a new password ends every session made with the old one."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


@login_manager.user_loader
def _load(user_id: str) -> Viewer | None:
    ident, _sep, stamp = user_id.partition(".")
    if not ident.isdigit():
        return None
    user = get_session().get(User, int(ident))
    if user is None or _stamp(user) != stamp:
        return None
    return Viewer.of(user)


@login_manager.unauthorized_handler
def _unauthorized():
    if request.accept_mimetypes.best == "application/json" or request.path.endswith("/status"):
        return jsonify(error=_("log in first")), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def role_required(*roles: str):
    """Only these roles may open the view; anyone else gets 404, as if it did not exist."""
    def decorate(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)
        return wrapped
    return decorate


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (an open redirect), never a scheme or a backslash."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return url_for("student.assignments")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return url_for("student.assignments")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("student.assignments"))
    form = LoginForm()
    if request.method == "GET":
        return render_template("login.html", form=form)
    with rate_limit(LOGIN_LIMIT):
        if form.validate_on_submit():
            user = find_user(get_session(), form.username.data.strip())
            if user is None:
                check_password(User(password_hash=_DUMMY_HASH), form.password.data)
            elif check_password(user, form.password.data):
                session.clear()  # nothing from before the login survives it
                login_user(Viewer.of(user))
                return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form, error=_("Wrong username or password.")), 400


@bp.errorhandler(RateLimitExceeded)
def _too_many(_exc):
    return render_template("login.html", form=LoginForm(formdata=None),
                           error=_("Too many login attempts from your address. Wait a minute and try again.")), 429


@bp.post("/logout")
def logout():
    form = PostForm()
    if form.validate_on_submit():  # the CSRF token (CSRFProtect has already refused a missing one)
        logout_user()
        session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    form = SettingsForm(sorted(zone_names()), data={"timezone": current_user.timezone or "",
                                                     "language": current_user.language or ""})
    if form.validate_on_submit():
        user = get_session().get(User, current_user.id)
        user.timezone = form.timezone.data if valid_zone(form.timezone.data) else None
        user.language = form.language.data or None
        get_session().commit()
        g.pop("lang", None)  # the flash below is in the language just chosen
        current_user.language = user.language
        flash(_("Settings saved."), "ok")
        return redirect(url_for("auth.settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("settings.html", form=form, browser_zone=request.cookies.get(TZ_COOKIE, "")), status


@bp.post("/language")
def language():
    """The switch on every page: remembered on the account when logged in, in a cookie either way (so the
    login page after logging out stays in it)."""
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        get_session().get(User, current_user.id).language = form.language.data
        get_session().commit()
    response = redirect(_safe_next(form.next.data))
    response.set_cookie(LANG_COOKIE, form.language.data, max_age=365 * 24 * 3600, samesite="Lax",
                        httponly=True, secure=current_app.config["GRADER"].production)
    return response


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.register_blueprint(bp)
