"""Accounts on the pages: Flask-Login sessions, log in (rate limited) and out, roles, the viewer's settings.

Sessions: a session's user id carries the user's session stamp (users.session_stamp), checked on every
request; logging out or a new password draws a new stamp, which ends every copy of every session of that user,
in any browser. A session also ends GRADER_SESSION_HOURS after its login, whatever the cookie says.
Login limits count failed logins only, per (client address, username), in widening windows (LOGIN_LIMITS),
so a student mistyping is slowed down and nobody else is; the address is the connection's, or the one
GRADER_PROXY_HOPS trusted proxies forwarded (grader.web.security).
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, abort, current_app, flash, g, jsonify, redirect, render_template, request,
                   session, url_for)
from flask_limiter.errors import RateLimitExceeded
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from grader.models import STAFF_ROLES, User
from grader.service.accounts import check_password, find_user, hash_password, new_session_stamp, set_password
from grader.web.db import get_session
from grader.web.forms import LanguageForm, LoginForm, PasswordForm, PostForm, SettingsForm
from grader.web.language import LANG_COOKIE, _
from grader.web.security import limiter_of
from grader.web.timezones import TZ_COOKIE, valid_zone, zone_names

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
# failed logins only: per (address, username), each window wider than the last (a backoff); per address over
# every username, a cap on trying many names that a classroom behind one address never reaches
LOGIN_LIMITS = "5 per minute; 20 per hour; 50 per day"
ADDRESS_LIMIT = "300 per hour"
LOGIN_AT = "_login_at"  # the session's login time (seconds since the epoch)
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
    """What a session's user id carries: the user's session stamp and their password, hashed together (so a
    password set any way at all ends the sessions too)."""
    if not user.session_stamp:
        return ""
    return hashlib.sha256(f"{user.session_stamp}|{user.password_hash or ''}".encode()).hexdigest()[:32]


@login_manager.user_loader
def _load(user_id: str) -> Viewer | None:
    """The session's user, on every request: only while its stamp is the user's and its lifetime lasts."""
    ident, _sep, stamp = user_id.partition(".")
    if not ident.isdigit() or not stamp:
        return None
    lifetime = current_app.config["GRADER"].session_hours * 3600
    login_at = session.get(LOGIN_AT)
    if not isinstance(login_at, (int, float)) or not 0 <= time.time() - login_at <= lifetime:
        return None
    user = get_session().get(User, int(ident))
    if user is None or not user.session_stamp or not hmac.compare_digest(_stamp(user), stamp):
        return None
    return Viewer.of(user)


@login_manager.unauthorized_handler
def _unauthorized():
    if request.accept_mimetypes.best == "application/json" or request.path.endswith("/status"):
        return jsonify(error=_("log in first")), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def role_required(*roles: str):
    """Only these roles may open the view; anyone else gets 404, as if it did not exist (checked before the CSRF
    token too, by _roles_first)."""
    def decorate(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)
        wrapped.roles = roles
        return wrapped
    return decorate


STAFF_PREFIX = "/staff"


def _roles_first():
    """Before the CSRF check: a view for other roles answers 404 to a logged-in user, like a route that does not
    exist (a CSRF-less POST answered 400 would say which staff routes exist); a visitor who is not logged in is
    sent to log in on every /staff path, existing or not."""
    under_staff = request.path == STAFF_PREFIX or request.path.startswith(STAFF_PREFIX + "/")
    if not current_user.is_authenticated:
        return login_manager.unauthorized() if under_staff else None
    view = current_app.view_functions.get(request.endpoint or "")
    roles = getattr(view, "roles", None)
    if roles is not None and current_user.role not in roles:
        abort(404)
    return None


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (an open redirect), never a scheme or a backslash."""
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return url_for("student.assignments")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return url_for("student.assignments")
    return target


def _login_key() -> str:
    """The (address, username) pair the login limits count failures of."""
    name = (request.form.get("username") or "").strip().casefold()[:64]
    return f"{request.remote_addr or '?'}|{name}"


def _address_key() -> str:
    return request.remote_addr or "?"


def _failed(response) -> bool:
    """Only a refused login counts against the limits (a successful one redirects)."""
    return response.status_code == 400


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("student.assignments"))
    form = LoginForm()
    if request.method == "GET":
        return render_template("login.html", form=form)
    if form.validate_on_submit():
        user = find_user(get_session(), form.username.data.strip())
        if user is None:
            check_password(User(password_hash=_DUMMY_HASH), form.password.data)
        elif check_password(user, form.password.data):
            session.clear()  # nothing from before the login survives it
            if not user.session_stamp:
                new_session_stamp(user)
                get_session().commit()
            session.permanent = True  # the cookie ends with the session's lifetime, not only with the browser
            session[LOGIN_AT] = int(time.time())
            login_user(Viewer.of(user))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form, error=_("Wrong username or password.")), 400


@bp.errorhandler(RateLimitExceeded)
def _too_many(_exc):
    return render_template("login.html", form=LoginForm(formdata=None),
                           error=_("Too many failed logins for this name. Wait a few minutes and try again; "
                                   "ask your TA if you forgot your password.")), 429


@bp.post("/logout")
def logout():
    form = PostForm()
    if form.validate_on_submit():  # the CSRF token (CSRFProtect has already refused a missing one)
        if current_user.is_authenticated:  # a new stamp: every copy of this user's sessions ends, here and elsewhere
            new_session_stamp(get_session().get(User, current_user.id))
            get_session().commit()
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
    return render_template("settings.html", form=form, password=PasswordForm(formdata=None),
                           browser_zone=request.cookies.get(TZ_COOKIE, "")), status


@bp.post("/settings/password")
@login_required
def change_password():
    """A new password: every session of the user ends (this one starts again) and their API token is revoked."""
    form = PasswordForm()
    user = get_session().get(User, current_user.id)
    if form.validate_on_submit() and check_password(user, form.current.data):
        set_password(user, form.new.data)
        get_session().commit()
        login_user(Viewer.of(user))  # this browser stays logged in, under the new stamp
        session[LOGIN_AT] = int(time.time())
        flash(_("Password changed. You were logged out everywhere else, and your API token was revoked: "
                "ask staff for a new one if you use grader submit."), "ok")
        return redirect(url_for("auth.settings"))
    if form.is_submitted() and not form.new.errors and not form.repeat.errors:
        form.current.errors = [_("That is not your current password.")]
    settings_form = SettingsForm(sorted(zone_names()), data={"timezone": current_user.timezone or "",
                                                             "language": current_user.language or ""})
    return render_template("settings.html", form=settings_form, password=form,
                           browser_zone=request.cookies.get(TZ_COOKIE, "")), 400


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
    # first of all the before-request checks, ahead of CSRFProtect's (registered earlier by grader.web.security)
    app.before_request_funcs.setdefault(None, []).insert(0, _roles_first)
    app.register_blueprint(bp)
    # the limiter is the app's own (its storage), so its limits wrap the login view here, not at import:
    # checked before the view, counted after it and only when it refused the login (deduct_when)
    limiter = limiter_of(app)
    view = limiter.limit(LOGIN_LIMITS, key_func=_login_key, methods=["POST"], deduct_when=_failed)(login)
    view = limiter.limit(ADDRESS_LIMIT, key_func=_address_key, methods=["POST"], deduct_when=_failed)(view)
    app.view_functions["auth.login"] = view
