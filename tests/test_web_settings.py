"""The settings page: the viewer's time zone."""
from __future__ import annotations

from web_helpers import csrf_from, db_of, login

from grader.service import accounts


def timezone_of(app, name):
    with db_of(app).session() as session:
        return accounts.find_user(session, name).timezone


def test_a_student_chooses_a_time_zone_and_can_go_back_to_the_browsers(app, client):
    login(client)
    token = csrf_from(client, "/settings")
    response = client.post("/settings", data={"csrf_token": token, "timezone": "Asia/Shanghai"})
    assert response.status_code == 302 and timezone_of(app, "alice") == "Asia/Shanghai"
    page = client.get("/settings").text
    assert "Settings saved." in page and '<option selected value="Asia/Shanghai">' in page
    assert client.post("/settings", data={"csrf_token": token, "timezone": ""}).status_code == 302
    assert timezone_of(app, "alice") is None


def test_an_unknown_time_zone_is_refused_on_the_form(app, client):
    login(client)
    token = csrf_from(client, "/settings")
    response = client.post("/settings", data={"csrf_token": token, "timezone": "Mars/Olympus"})
    assert response.status_code == 400 and "Not a valid choice" in response.text
    assert timezone_of(app, "alice") is None


def test_settings_need_the_csrf_token(app, client):
    login(client)
    response = client.post("/settings", data={"timezone": "Asia/Shanghai"})
    assert response.status_code == 400 and "security token" in response.text
    assert timezone_of(app, "alice") is None


def test_the_browsers_zone_from_its_cookie_is_shown_escaped(app, client):
    login(client)
    client.set_cookie("tz", "<b>Mars</b>")
    page = client.get("/settings").text
    assert "Your browser says: &lt;b&gt;Mars&lt;/b&gt;." in page


def test_the_late_window_end_is_a_time_tag_in_the_viewers_zone(app, client):
    login(client)
    client.set_cookie("tz", "Asia/Shanghai")
    page = client.get("/assignments/backprop-quadratic").text
    # deadline 2026-12-10 23:59 +08:00, 10 minutes' grace, 3 late days
    assert 'accepted until <time datetime="2026-12-13T16:09:00+00:00">Dec 14, 2026 00:09 UTC+8</time>' in page
