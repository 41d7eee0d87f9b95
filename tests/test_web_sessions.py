"""Login limits and sessions a course can trust: only failed logins count, per (address, username), and the
address is the client's only through the configured proxies (both ways); logging out and a new password end
every copy of a session; sessions end after their lifetime; a new password revokes the API token."""
from __future__ import annotations

import shutil
import time

import pytest

from grader.service import accounts
from grader.web import auth
from web_helpers import PASSWORD, csrf_from, db_of, login, make_app


def logout(client):
    return client.post("/logout", data={"csrf_token": csrf_from(client, "/settings")})


def fresh_app(template_db, tmp_path, **settings):
    path = tmp_path / "grader.db"
    shutil.copy(template_db, path)
    return make_app(path, **settings)


def login_from(client, address: str | None = None, forwarded: str | None = None, name="alice", password=PASSWORD):
    environ = {"REMOTE_ADDR": address} if address else {}
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    token = csrf_from(client, "/login")
    return client.post("/login", data={"csrf_token": token, "username": name, "password": password},
                       environ_base=environ, headers=headers)


def test_successful_logins_do_not_count(app):
    client = app.test_client()
    for _ in range(15):  # a classroom logging in and out through one address
        assert login(client).status_code == 302
        assert logout(client).status_code == 302


def test_failures_lock_out_only_that_name_from_that_address(app):
    attacker = app.test_client()
    for _ in range(5):
        assert login(attacker, "alice", "guess").status_code == 400
    assert login(attacker, "alice", PASSWORD).status_code == 429
    assert login(attacker, "ALICE ", "guess").status_code == 429  # the same name however it is typed
    assert login(app.test_client(), "bob").status_code == 302  # another student at the same address
    assert login_from(app.test_client(), address="10.0.0.7").status_code == 302  # alice from elsewhere


def test_without_proxy_hops_a_forwarded_header_is_not_believed(app):
    client = app.test_client()
    for n in range(5):
        assert login_from(client, forwarded=f"203.0.113.{n}", password="guess").status_code == 400
    # the client cannot leave its own lockout by claiming another address
    assert login_from(client, forwarded="198.51.100.9").status_code == 429


def test_with_one_proxy_hop_the_forwarded_client_address_counts(template_db, tmp_path):
    app = fresh_app(template_db, tmp_path, proxy_hops=1)
    client = app.test_client()
    for _ in range(5):
        assert login_from(client, forwarded="203.0.113.5", password="guess").status_code == 400
    assert login_from(client, forwarded="203.0.113.5").status_code == 429
    # behind the proxy, another client is another address: not locked out with the first
    assert login_from(client, forwarded="198.51.100.9").status_code == 302
    logout(client)
    # the proxy appends the real address: a client's own header in front of it is not trusted
    assert login_from(client, forwarded="198.51.100.9, 203.0.113.5").status_code == 429
    app.extensions["grader.db"].dispose()


def test_logout_ends_a_copy_of_the_session_cookie(app):
    mine, copy = app.test_client(), app.test_client()
    login(mine)
    cookie = mine.get_cookie("session")
    copy.set_cookie("session", cookie.value)
    assert copy.get("/assignments").status_code == 200  # the copy works while the session lives
    logout(mine)
    assert copy.get("/assignments").status_code == 302
    assert mine.get("/assignments").status_code == 302
    login(mine)  # a new login works again
    assert mine.get("/assignments").status_code == 200


def test_a_password_change_ends_other_sessions_keeps_this_one_and_revokes_the_api_token(app):
    here, elsewhere = app.test_client(), app.test_client()
    login(here)
    login(elsewhere)
    with db_of(app).session() as session:
        token = accounts.issue_token(session, "alice")
    api = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/assignments", headers=api).status_code == 200
    response = here.post("/settings/password", data={"csrf_token": csrf_from(here, "/settings"), "current": PASSWORD,
                                                     "new": "a much newer password", "repeat": "a much newer password"})
    assert response.status_code == 302
    assert "API token was revoked" in here.get("/settings").text
    assert here.get("/assignments").status_code == 200
    assert elsewhere.get("/assignments").status_code == 302
    assert app.test_client().get("/api/assignments", headers=api).status_code == 401
    assert login(app.test_client(), "alice", "a much newer password").status_code == 302


def test_a_wrong_current_password_changes_nothing(app):
    client = app.test_client()
    login(client)
    response = client.post("/settings/password", data={"csrf_token": csrf_from(client, "/settings"),
                                                       "current": "not it", "new": "abcdefghij", "repeat": "abcdefghij"})
    assert response.status_code == 400 and "not your current password" in response.text
    assert login(app.test_client()).status_code == 302


def test_a_roster_password_revokes_sessions_and_token_but_a_reimport_does_not(app):
    client = app.test_client()
    login(client)
    with db_of(app).session() as session:
        accounts.issue_token(session, "alice")
        accounts.import_roster(session, accounts.parse_roster(f"username,display_name,role,password\n"
                                                              f"alice,Alice,student,{PASSWORD}\n"))
    assert client.get("/assignments").status_code == 200  # the same password: nothing ends
    with db_of(app).session() as session:
        accounts.import_roster(session, accounts.parse_roster("username,display_name,role,password\n"
                                                              "alice,Alice,student,another password\n"))
        assert accounts.find_user(session, "alice").api_token_hash is None
    assert client.get("/assignments").status_code == 302


def test_a_session_ends_after_its_lifetime(template_db, tmp_path, monkeypatch):
    app = fresh_app(template_db, tmp_path, session_hours=2)
    client = app.test_client()
    response = login(client)
    assert "Expires=" in response.headers["Set-Cookie"]  # the browser drops it too
    assert client.get("/assignments").status_code == 200
    start = time.time()
    monkeypatch.setattr(auth.time, "time", lambda: start + 2 * 3600 + 60)
    assert client.get("/assignments").status_code == 302
    app.extensions["grader.db"].dispose()


def test_session_hours_must_be_positive():
    from grader.config import Config, ConfigError

    with pytest.raises(ConfigError, match="GRADER_SESSION_HOURS"):
        Config.from_env({"GRADER_SESSION_HOURS": "0"})
