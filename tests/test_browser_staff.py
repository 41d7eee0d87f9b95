"""Staff in real headless Chromium against a live server, a real Redis and a real grading worker: a TA opens
the dashboard of an assignment with graded submissions, sorts by score, opens a submission, regrades it and
watches it run again; an instructor uploads a broken spec and sees the error line, then a fixed one with its
solution and mistakes, dry-runs it on the worker and publishes it. Screenshots go to tests/out/screenshots/."""
from __future__ import annotations

import re

import pytest

from browser_helpers import LiveServer, require_browser, shot
from grader.service import accounts
from service_helpers import ASSIGNMENTS, Pipeline
from web_helpers import PASSWORD

pytestmark = pytest.mark.slow
QUADRATIC = ASSIGNMENTS / "backprop-quadratic"


@pytest.fixture
def live(tmp_path, redis_server):
    """A live site with a worker running, a TA, an instructor and three graded submissions."""
    require_browser()
    from grader.web import create_app

    url = f"sqlite:///{tmp_path / 'grader.db'}"
    pipe = Pipeline(url, redis_server, tmp_path)
    with pipe.db.session() as session:
        accounts.create_user(session, "tina", "ta", PASSWORD, display_name="Tina <i>TA</i>")
        accounts.create_user(session, "ivan", "instructor", PASSWORD, display_name="Ivan 老师")
    app = create_app({"database_url": url, "broker_url": redis_server.url, "ratelimit_storage_url": "memory://",
                      "secret_key": "s" * 40, "assignments_dir": str(ASSIGNMENTS)})
    try:
        with LiveServer(app) as server:
            server.pipe = pipe
            pipe.worker()
            yield server
    finally:
        app.extensions["grader.db"].dispose()
        pipe.close()


def log_in(page, live, name: str) -> None:
    page.goto(f"{live.url}/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_a_ta_sorts_the_dashboard_opens_a_submission_and_regrades_it(live, page):
    from playwright.sync_api import expect

    solution = (QUADRATIC / "solution.py").read_text()
    mistakes = sorted((QUADRATIC / "mistakes").glob("*.py"))
    ids = [live.pipe.submit(mistakes[0].read_text(), 1, "backprop-quadratic"),
           live.pipe.submit(solution, 2, "backprop-quadratic"),
           live.pipe.submit(mistakes[-1].read_text(), 3, "backprop-quadratic")]
    live.pipe.wait_graded(ids, 120)

    log_in(page, live, "tina")
    page.click("header nav >> text=Dashboard")
    expect(page.locator("#queue-health [data-queue=workers]")).to_have_text("1")
    shot(page, "staff-01-index")
    page.click('tr[data-assignment="backprop-quadratic"] a')
    expect(page.locator("#gradebook tbody tr")).to_have_count(20)
    expect(page.locator("#histogram svg.histogram")).to_be_visible()
    expect(page.locator("#diagnoses tr[data-diagnosis]").first).to_be_visible()

    page.click("#gradebook th >> a[data-sort=best]")
    expect(page).to_have_url(re.compile(r"sort=best&dir=desc"))
    bests = page.locator("#gradebook tbody tr").evaluate_all("rows => rows.map(r => r.dataset.best)")
    scored = [float(b) for b in bests if b]
    assert len(scored) == 3 and scored == sorted(scored, reverse=True) and scored[0] == 100
    assert bests[3:] == [""] * 17
    shot(page, "staff-02-dashboard-sorted-by-best")

    page.locator("#gradebook tbody tr").first.locator("td.best a").click()
    expect(page.locator("h1")).to_contain_text(f"Submission #{ids[1]}")
    expect(page.locator("#live")).to_have_attribute("data-status", "graded")
    expect(page.locator("dd.worker")).to_contain_text("w1@")
    expect(page.locator("#score")).to_have_text("100 / 100")
    expect(page.locator("table.source")).to_contain_text("backward()")
    page.wait_for_function("() => [...document.querySelectorAll('img.plot')].every(i => i.complete && i.naturalWidth > 0)")
    shot(page, "staff-03-submission")
    from grader.models import AuditEntry, Submission

    with live.pipe.db.session() as session:
        first_finish = session.get(Submission, ids[1]).finished_at

    page.click("#regrade-one")
    expect(page.locator(".flash.ok")).to_contain_text("Queued for grading again")
    expect(page.locator("#live")).to_have_attribute("data-status", re.compile("queued|running|graded"))
    expect(page.locator("#live")).to_have_attribute("data-status", "graded", timeout=90_000)
    expect(page.locator("#results #score")).to_have_text("100 / 100")
    page.wait_for_function("() => [...document.querySelectorAll('img.plot')].every(i => i.complete && i.naturalWidth > 0)")
    shot(page, "staff-04-regraded")
    with live.pipe.db.session() as session:
        again = session.get(Submission, ids[1])
        assert again.finished_at > first_finish and again.attempt == 1  # it ran again, attempts counted afresh
        assert [e.action for e in session.query(AuditEntry)] == ["regrade"]
    assert page.problems == []


def test_a_live_regrade_brings_back_the_times_and_the_override_form_and_the_student_reads_the_override(live, page):
    """Issue 15 items 10 and 11: the staff page, regraded live, shows the new finish time and the override form
    without a reload; a TA's override there reaches the student as 'score set by staff', with its reason and
    the grader's own score of what is open to them."""
    from playwright.sync_api import expect

    from grader.submissions import submit

    with live.pipe.db.session() as session:
        sara = accounts.create_user(session, "sara", "student", PASSWORD).id
    sid = submit(live.pipe.db, live.pipe.sender.send, sara, "backprop-quadratic",
                 (QUADRATIC / "solution.py").read_text(), "hw.py").id
    live.pipe.wait_graded([sid], 120)
    live.pipe.processes[0].stop()  # no worker while the regrade is queued: the page must see it finish live

    log_in(page, live, "tina")
    page.goto(f"{live.url}/staff/submissions/{sid}")
    first_finish = page.locator("#finished-at time").get_attribute("datetime")
    page.click("#regrade-one")
    expect(page.locator("#live")).to_have_attribute("data-status", "queued")
    expect(page.locator("#finished-at")).to_have_text("—")
    expect(page.locator("#override-form")).to_have_count(0)
    marker = page.evaluate("() => (window.__sameDocument = 'yes')")
    live.pipe.worker("w2")
    expect(page.locator("#live")).to_have_attribute("data-status", "graded", timeout=90_000)
    expect(page.locator("#finished-at time")).to_have_count(1)
    assert page.locator("#finished-at time").get_attribute("datetime") > first_finish
    expect(page.locator("dd.worker")).to_contain_text("w2@")
    expect(page.locator("#override-form")).to_be_visible()
    assert page.evaluate("() => window.__sameDocument") == marker  # no reload
    shot(page, "staff-08-regraded-live")

    expect(page.locator("#override-reason-note")).to_contain_text("The student reads this reason")
    page.fill("#override-score", "90")
    page.fill("#override-form textarea[name=reason]", "Your plot was right: <b>checked by hand</b>")
    page.click("#override-form button[type=submit]")
    expect(page.locator(".flash.ok")).to_contain_text("The score is now 90")

    # leave the page first: its live long-poll answers after clear_cookies would set the TA's session again
    page.goto("about:blank")
    page.context.clear_cookies()
    log_in(page, live, "sara")
    page.goto(f"{live.url}/submissions/{sid}")
    expect(page.locator("#score")).to_have_text(re.compile(r"^90\s*/\s*100$"))
    expect(page.locator("#set-by-staff")).to_have_text("score set by staff")
    expect(page.locator("#override-reason")).to_have_text("Your plot was right: <b>checked by hand</b>")
    # the after_deadline prediction's 15 points stay out of the grader's own score too (grader.visibility)
    # (the same rule as the checks table: while the prediction row is closed its points are not counted)
    if page.locator('tr[data-check="prediction"] .badge.closed').count():
        expect(page.locator("#graders-score")).to_have_text(re.compile(r"^85\s*/\s*85\s*\+ 15 points not shown yet$"))
    else:
        expect(page.locator("#graders-score")).to_have_text(re.compile(r"^100\s*/\s*100$"))
    shot(page, "student-override")
    assert page.problems == []


def test_an_instructor_fixes_a_broken_spec_dry_runs_it_and_publishes_it(live, page, tmp_path):
    from playwright.sync_api import expect

    spec = (QUADRATIC / "assignment.yaml").read_text().replace("id: backprop-quadratic", "id: quadratic-again")
    broken = spec.replace("epochs: 100", "epochs: many")
    line = next(i for i, text in enumerate(broken.split("\n"), 1) if "epochs: many" in text)

    log_in(page, live, "ivan")
    page.click("header nav >> text=Manage")
    page.fill("textarea[name=text]", broken)
    page.click("#spec-upload-form button[type=submit]")
    problem = page.locator("#spec-errors tr.problem").first
    expect(problem).to_have_attribute("data-line", str(line))
    expect(problem).to_have_attribute("data-field", "training.epochs")
    expect(page.locator(f"#S{line}")).to_have_class("bad")
    shot(page, "staff-05-broken-spec")

    fixed = tmp_path / "assignment.yaml"
    fixed.write_text(spec)
    page.fill("textarea[name=text]", "")
    page.set_input_files("input[name=spec]", str(fixed))
    page.set_input_files("input[name=solution]", str(QUADRATIC / "solution.py"))
    page.set_input_files("input[name=mistakes]", [str(p) for p in sorted((QUADRATIC / "mistakes").glob("*.py"))])
    page.click("#spec-upload-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/staff/manage/quadratic-again$"))
    expect(page.locator("#publish-state")).to_contain_text("unpublished")

    page.click("#start-dry-run")
    expect(page.locator("#dry-run-verdict")).to_have_text("passed", timeout=120_000)
    expect(page.locator("table.dry-files tr.pass")).to_have_count(1 + len(list((QUADRATIC / "mistakes").glob("*.py"))))
    shot(page, "staff-06-dry-run-passed")

    page.click("#publish")
    expect(page.locator("#publish-state")).to_contain_text("published")
    expect(page.locator(".flash.ok")).to_contain_text("Published")
    shot(page, "staff-07-published")
    page.goto(f"{live.url}/assignments")
    expect(page.locator('tr[data-assignment="quadratic-again"]')).to_be_visible()
    refused = "the server responded with a status of 400"  # the broken spec's own answer
    assert [p for p in page.problems if refused not in p] == []
