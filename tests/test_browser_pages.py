"""What a course can trust, in real headless Chromium against a live server: a student sees no number, word or
plot of a check that is not open yet (on the page, after the live update and on the list), and logging out
ends the session for a copy of its cookie in another browser too."""
from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest

from browser_helpers import CHROMIUM, CHROMIUM_ARGS, SHOTS, LiveServer, require_browser, shot
from grader.models import CheckResultRow, Submission, utcnow
from test_visibility import QUAD, no_leak, the_issues_submission
from web_helpers import PASSWORD, add_graded, db_of, make_app, never_ran, set_deadline, set_user

pytestmark = pytest.mark.slow


@pytest.fixture
def site(template_db, tmp_path):
    """The pages on a live port, over a copy of the test database (no worker: results are written directly)."""
    require_browser()
    path = tmp_path / "grader.db"
    shutil.copy(template_db, path)
    app = make_app(path, submit_interval_seconds=0)
    try:
        with LiveServer(app) as server:
            server.app = app
            yield server
    finally:
        app.extensions["grader.db"].dispose()


@pytest.fixture
def browser(tmp_path):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def new_page(browser):
    context = browser.new_context(timezone_id="Asia/Shanghai", locale="en-US", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def log_in(page, site, name: str = "alice") -> None:
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/assignments$"))


def test_a_student_sees_nothing_of_closed_checks_on_any_page(site, browser):
    from playwright.sync_api import expect

    sid = the_issues_submission(site.app)
    page = new_page(browser)
    log_in(page, site)
    page.goto(f"{site.url}/submissions/{sid}")
    expect(page.locator("#score")).to_have_text(re.compile(r"^10\s*/\s*10\s*\+ 90 points not shown yet$"))
    shot(page, "pages-01-closed-checks")
    body = page.locator("main").inner_text()
    no_leak(body)
    assert page.locator("img.plot").count() == 0 and page.locator("table.first").count() == 0
    # the plot of the closed trace check is not there to fetch either
    assert page.request.get(f"{site.url}/submissions/{sid}/plots/loss.svg").status == 404
    page.goto(f"{site.url}/assignments")
    row = page.locator(f'tr[data-assignment="{QUAD}"]')
    expect(row.locator("td.best")).to_contain_text("+ 90 points not shown yet")
    no_leak(row.inner_text())
    page.goto(f"{site.url}/assignments/{QUAD}/history")
    no_leak(page.locator("main").inner_text())


def test_the_live_update_shows_the_open_points_only(site, browser):
    """The page polls the status JSON while grading runs, then fills in the results: still no closed check."""
    from playwright.sync_api import expect

    set_deadline(site.app, QUAD, utcnow() + dt.timedelta(days=3))
    sid = add_graded(site.app, status="queued")
    page = new_page(browser)
    log_in(page, site)
    page.goto(f"{site.url}/submissions/{sid}")
    expect(page.locator("#status")).to_contain_text("Queued")
    with db_of(site.app).session() as session:  # the worker's result: a full score, 90 points after the deadline
        s = session.get(Submission, sid)
        s.status, s.score, s.max_score, s.finished_at = "graded", 100.0, 100.0, utcnow()
        session.add_all([
            CheckResultRow(submission_id=sid, check_id="runs", position=0, kind="runs", passed=True, points=10,
                           max_points=10, message_code="runs.ok"),
            CheckResultRow(submission_id=sid, check_id="prediction", position=1, kind="predictions", passed=True,
                           points=90, max_points=90, visibility="after_deadline", message_code="predictions.ok")])
    expect(page.locator("#score")).to_have_text(re.compile(r"^10\s*/\s*10\s*\+ 90 points not shown yet$"),
                                                timeout=20_000)
    expect(page.locator('tr[data-check="prediction"]')).to_contain_text("shown after the deadline")
    assert "100" not in page.locator("#results").inner_text()
    shot(page, "pages-02-live-update-closed")


def test_logging_out_ends_a_copy_of_the_session_in_another_browser(site, browser):
    from playwright.sync_api import expect

    mine = new_page(browser)
    log_in(mine, site)
    stolen = new_page(browser)  # another browser profile, holding a copy of the cookie
    stolen.context.add_cookies(mine.context.cookies())
    stolen.goto(f"{site.url}/assignments")
    expect(stolen.locator("h1")).to_have_text("Assignments")
    mine.goto(f"{site.url}/assignments")
    mine.locator("form[action='/logout'] button").click()
    expect(mine).to_have_url(re.compile(r"/login"))
    stolen.goto(f"{site.url}/assignments")
    expect(stolen).to_have_url(re.compile(r"/login\?next="))
    shot(stolen, "pages-03-copied-cookie-after-logout")


def test_a_student_watches_their_place_in_the_queue_and_sees_no_form_once_closed_and_no_plot_of_a_run_that_never_ran(
        site, browser):
    from playwright.sync_api import expect

    import sqlalchemy as sa

    ahead = add_graded(site.app, "wang", status="queued", submitted_at=utcnow() - dt.timedelta(seconds=30))
    mine = add_graded(site.app, status="queued", submitted_at=utcnow() - dt.timedelta(seconds=10))
    page = new_page(browser)
    log_in(page, site)
    page.goto(f"{site.url}/submissions/{mine}")
    expect(page.locator("#queue-place")).to_have_text("2nd in the queue, about 4 s")
    with db_of(site.app).session() as session:  # a worker takes the one ahead: the page moves up by itself
        session.execute(sa.update(Submission).where(Submission.id == ahead).values(status="running"))
    expect(page.locator("#queue-place")).to_have_text("1st in the queue, about 4 s", timeout=20_000)
    shot(page, "pages-04-queue-place")

    broken = add_graded(site.app)
    never_ran(site.app, broken)
    page.goto(f"{site.url}/submissions/{broken}")
    expect(page.locator('tr[data-check="runs"]')).to_contain_text("Syntax error on line 3")
    assert page.locator("img.plot").count() == 0

    set_deadline(site.app, QUAD, utcnow() - dt.timedelta(days=5))
    page.goto(f"{site.url}/assignments/{QUAD}")
    expect(page.locator("#closed")).to_contain_text("closed on")
    # the browser re-writes times in its own zone in the server's format: the zone as an offset, never "CST"
    expect(page.locator(".meta time").first).to_have_text(re.compile(r"^[A-Z][a-z]{2} \d{1,2}, \d{4} \d{2}:\d{2} UTC\+8$"))
    assert page.locator("#upload-form").count() == 0
    shot(page, "pages-05-closed-assignment")


def test_a_ta_reads_the_dashboard_in_words_and_names(site, browser):
    from playwright.sync_api import expect

    add_graded(site.app, "alice", mistake=False)
    never_ran(site.app, add_graded(site.app, "wang"))
    set_user(site.app, "alice", display_name="张伟")
    set_user(site.app, "bob", display_name="李娜")
    page = new_page(browser)
    log_in(page, site, "tina")
    page.goto(f"{site.url}/staff/assignments/{QUAD}")
    full = page.locator('#histogram g[data-bin="10"]')
    expect(full.locator("text.bin-label")).to_have_text("100")
    assert full.get_attribute("data-count") == "1"
    expect(page.locator('#histogram [data-axis="x"]')).to_have_text("Best score (points)")
    expect(page.locator('#diagnoses tr[data-diagnosis="runs.ended_syntax_error"]')).to_contain_text("never ran")
    options = page.locator("select[name=diagnosis] option").all_inner_texts()
    assert "Syntax error" in options and not any("." in o for o in options), options
    expect(page.locator("#gradebook tbody tr").first).to_have_attribute("data-student", "bob")  # li before wang, zhang
    page.locator('a[data-sort="username"]').click()
    expect(page.locator("#gradebook tbody tr").first).to_have_attribute("data-student", "alice")
    page.select_option("select[name=show]", "below_full")
    page.click("#filters button[type=submit]")
    expect(page.locator("#gradebook tbody tr")).to_have_count(1)  # wang: bob submitted nothing
    shot(page, "pages-06-dashboard-words")
