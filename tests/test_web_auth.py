"""Logging in and out, sessions, roles, CSRF and the security headers of the pages."""
from __future__ import annotations

import pytest
from flask import Blueprint

from grader.service.accounts import hash_password
from grader.web.auth import role_required
from web_helpers import PASSWORD, csrf_from, login, make_app, set_user


def test_a_logged_out_visitor_is_sent_to_the_login_page(client):
    for path in ("/", "/assignments", "/assignments/backprop-quadratic", "/assignments/backprop-quadratic/history",
                 "/submissions/1", "/submissions/1/source", "/submissions/1/plots/loss.svg", "/settings"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path


def test_the_status_endpoint_answers_json_401_when_logged_out(client):
    response = client.get("/submissions/1/status")
    assert response.status_code == 401 and "log in" in response.json["error"]


def test_a_student_logs_in_and_out(client):
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/assignments"
    page = client.get("/assignments")
    assert page.status_code == 200 and "Alice" in page.text
    token = csrf_from(client, "/assignments")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/assignments").status_code == 302


def test_a_wrong_password_or_unknown_user_is_refused_with_the_same_message(client):
    for name, password in (("alice", "wrong password"), ("nobody", PASSWORD)):
        response = login(client, name, password)
        assert response.status_code == 400
        assert "Wrong username or password." in response.text
    assert client.get("/assignments").status_code == 302


def test_login_follows_next_only_to_a_path_on_this_site(client):
    token = csrf_from(client, "/login")
    for target, expected in (("/assignments/backprop-quadratic", "/assignments/backprop-quadratic"),
                             ("https://evil.example/", "/assignments"), ("//evil.example/x", "/assignments"),
                             ("/\\evil.example", "/assignments")):
        client.get("/")  # a fresh request in the same session
        response = client.post("/login", query_string={"next": target},
                               data={"csrf_token": token, "username": "alice", "password": PASSWORD})
        assert response.headers["Location"] == expected, target
        token = csrf_from(client, "/settings")
        client.post("/logout", data={"csrf_token": token})
        token = csrf_from(client, "/login")


def test_failed_logins_are_limited_per_address_and_name(client):
    for _ in range(5):
        assert login(client, "alice", "wrong password").status_code == 400
    response = login(client, "alice", PASSWORD)  # even the right password, once the limit is used up
    assert response.status_code == 429
    assert "Too many failed logins for this name" in response.text
    assert client.get("/assignments").status_code == 302


def test_a_login_without_its_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert "security token" in response.text
    assert client.get("/assignments").status_code == 302


def test_logout_needs_its_csrf_token(client):
    login(client)
    assert client.post("/logout").status_code == 400
    assert client.get("/assignments").status_code == 200  # still logged in


def test_a_password_change_ends_existing_sessions(app, client):
    login(client)
    assert client.get("/assignments").status_code == 200
    set_user(app, "alice", password_hash=hash_password("a brand new password"))
    assert client.get("/assignments").status_code == 302


def test_pages_carry_a_strict_content_security_policy_and_safe_cookies(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.text.replace("<script src=", "")  # no inline script anywhere
    cookie = login(client).headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure_and_host_only(template_db, tmp_path):
    import shutil

    path = tmp_path / "grader.db"
    shutil.copy(template_db, path)
    app = make_app(path, env="production", secret_key="s" * 64)
    client = app.test_client()
    response = login(client)
    cookie = response.headers.get("Set-Cookie", "")
    assert cookie.startswith("__Host-grader=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "max-age" in client.get("/login").headers["Strict-Transport-Security"]
    app.extensions["grader.db"].dispose()


def test_role_required_answers_404_to_other_roles(template_db, tmp_path):
    import shutil

    path = tmp_path / "grader.db"
    shutil.copy(template_db, path)
    app = make_app(path)
    staff = Blueprint("staff_probe", __name__)

    @staff.get("/staff-probe")
    @role_required("ta", "instructor")
    def probe():
        return "staff only"

    app.register_blueprint(staff)
    client = app.test_client()
    assert client.get("/staff-probe").status_code == 302
    login(client, "alice")
    assert client.get("/staff-probe").status_code == 404
    client = app.test_client()
    login(client, "tina")
    assert client.get("/staff-probe").text == "staff only"
    app.extensions["grader.db"].dispose()


def test_the_token_api_stays_exempt_from_csrf(app, client):
    response = client.post("/api/submissions", data={"assignment": "backprop-quadratic"})
    assert response.status_code == 401  # refused for its missing token, not for CSRF


@pytest.mark.parametrize("path", ["/no-such-page", "/submissions/abc"])
def test_unknown_pages_are_a_friendly_404(client, path):
    login(client)
    response = client.get(path)
    assert response.status_code == 404 and "There is nothing here" in response.text
