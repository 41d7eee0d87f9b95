"""A student in real headless Chromium against a live server, a real Redis and a real grading worker:
log in, upload the seed homework, watch it go from queued to graded, see 100/100 and the plots; paste a
mistake and read its diagnosis. Screenshots of every page go to tests/out/screenshots/."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from browser_helpers import LiveServer, require_browser, shot
from grader.service import accounts
from service_helpers import ASSIGNMENTS, Pipeline
from web_helpers import PASSWORD

pytestmark = pytest.mark.slow
QUADRATIC = ASSIGNMENTS / "backprop-quadratic"


@pytest.fixture
def live(tmp_path, redis_server):
    """A live site with no worker yet (the test starts it), and a student account."""
    require_browser()
    from grader.web import create_app

    url = f"sqlite:///{tmp_path / 'grader.db'}"
    pipe = Pipeline(url, redis_server, tmp_path)
    with pipe.db.session() as session:
        accounts.create_user(session, "wang", "student", PASSWORD, display_name="Wang Fang <b>王芳</b>")
    app = create_app({"database_url": url, "broker_url": redis_server.url, "ratelimit_storage_url": "memory://",
                      "secret_key": "b" * 40, "submit_interval_seconds": 1})
    try:
        with LiveServer(app) as server:
            server.pipe = pipe
            yield server
    finally:
        app.extensions["grader.db"].dispose()
        pipe.close()


def test_a_student_submits_watches_it_graded_and_reads_the_feedback(live, page):
    from playwright.sync_api import expect

    # log in
    page.goto(f"{live.url}/assignments")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    shot(page, "01-login")
    page.fill("input[name=username]", "wang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")

    # the assignment list, the deadline in the browser's time zone (the seed deadline is 23:59 at UTC+8)
    expect(page.locator("h1")).to_have_text("Assignments")
    expect(page.locator("header .who")).to_contain_text("Wang Fang <b>王芳</b>")
    deadline = page.locator('tr[data-assignment="backprop-quadratic"] time')
    expect(deadline).to_have_text("Dec 10, 2026 23:59 UTC+8")  # the server's format, never "CST" or "GMT+8"
    shot(page, "02-assignments")

    # upload the seed homework while no worker runs: it waits, queued
    page.click("text=Back propagation: y = w1·x² + w2·x + b")
    expect(page.locator("#upload-form")).to_be_visible()
    shot(page, "03-assignment")
    page.set_input_files("input[type=file]", str(QUADRATIC / "solution.py"))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#live")).to_have_attribute("data-status", "queued")
    expect(page.locator("#status")).to_have_text("Queued")
    shot(page, "04-submission-queued")

    # a worker starts; the page turns to graded by itself, without a reload
    marker = page.evaluate("() => (window.__sameDocument = 'yes')")
    live.pipe.worker()
    expect(page.locator("#live")).to_have_attribute("data-status", "graded", timeout=90_000)
    assert page.evaluate("() => window.__sameDocument") == marker
    expect(page.locator("#status")).to_have_text("Graded")
    # the after_deadline prediction's 15 points are not shown before the deadline (grader.visibility)
    expect(page.locator("#score")).to_have_text(re.compile(r"^85\s*/\s*85\s*\+ 15 points not shown yet$"))
    expect(page.locator('tr[data-check="trace"]')).to_contain_text("All 300 gradient steps")
    expect(page.locator('tr[data-check="prediction"]')).to_contain_text("shown after the deadline")
    # the plots come inside the results, with the score: no second round of requests
    expect(page.locator('figure[data-plot="loss"] svg')).to_be_visible()
    expect(page.locator('figure[data-plot="loss"] svg')).to_contain_text("Loss per step")
    assert page.locator("figure.plot svg").count() == 4  # loss, w1, w2, b
    expect(page.locator("pre.stdout")).to_contain_text("Predict (befortraining)")
    shot(page, "05-submission-graded")

    # paste a mistake (with a script tag in its output): it is graded and diagnosed
    page.goto(f"{live.url}/assignments/backprop-quadratic")
    mistake = (QUADRATIC / "mistakes" / "no_zero_grad.py").read_text()
    page.fill("textarea[name=code]", "print('<script>alert(1)</script>')\n" + mistake)
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#live")).to_have_attribute("data-status", "graded", timeout=90_000)
    expect(page.locator(".diagnosis")).to_contain_text("Your gradients are never zeroed")
    first = page.locator("table.first tbody td")
    assert [first.nth(i).inner_text() for i in range(6)][:4] == ["2", "1", "2", "w1.grad"]
    line = ("print('<script>alert(1)</script>')\n" + mistake).splitlines().index("        l.backward()") + 1
    expect(page.locator("table.first td.where")).to_have_text(f"line {line}")  # where its backward() was called
    expect(page.locator("pre.stdout")).to_contain_text("<script>alert(1)</script>")
    page.wait_for_function("() => [...document.querySelectorAll('img.plot')].every(i => i.complete && i.naturalWidth > 0)")
    shot(page, "06-submission-mistake")

    # history and source
    page.click("text=History")
    expect(page.locator("tr[data-submission]")).to_have_count(2)
    shot(page, "07-history")
    page.locator("tr[data-submission] >> text=source").first.click()
    expect(page.locator("table.source")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("#L2 td.ln")).to_have_text("2")
    shot(page, "08-source")

    # a refusal: the wrong kind of file is stopped on the form
    page.goto(f"{live.url}/assignments/backprop-quadratic")
    txt = Path(live.pipe.logs) / "notes.txt"
    txt.write_text("not python")
    page.set_input_files("input[type=file]", str(txt))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#client-error")).to_have_text("Only Python files (.py) and Jupyter notebooks (.ipynb) are accepted.")
    with page.expect_navigation():  # form.submit() skips the script's check: the server refuses it too
        page.evaluate("() => document.getElementById('upload-form').submit()")
    expect(page.locator("#upload-error")).to_contain_text("Only Python files (.py) and Jupyter notebooks (.ipynb) are accepted; notes.txt is neither.")
    shot(page, "09-upload-refused")

    page.goto(f"{live.url}/settings")
    shot(page, "10-settings")
    refused = "the server responded with a status of 400"  # the refused upload's own answer
    assert [p for p in page.problems if refused not in p] == []  # no CSP violation, script error or alert


def test_a_student_switches_to_chinese_and_reads_the_diagnosis_in_chinese(live, page):
    """The switch in the header: the page, the stored diagnosis, the live status and the dates turn Chinese,
    and the choice follows the student to the next page and the next login."""
    from playwright.sync_api import expect

    live.pipe.worker()
    page.goto(f"{live.url}/login")
    page.fill("input[name=username]", "wang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live.url}/assignments/backprop-quadratic")
    page.fill("textarea[name=code]", (QUADRATIC / "mistakes" / "no_zero_grad.py").read_text())
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#live")).to_have_attribute("data-status", "graded", timeout=90_000)
    expect(page.locator(".diagnosis")).to_contain_text("Your gradients are never zeroed")

    page.click('#lang-switch button[value="zh"]')
    expect(page.locator("html")).to_have_attribute("lang", "zh")
    expect(page.locator(".diagnosis")).to_contain_text("你的梯度从未清零，因此会在各步之间累加")
    expect(page.locator(".diagnosis")).not_to_contain_text("Your gradients")
    expect(page.locator("#status")).to_have_text("已评分")
    expect(page.locator('tr[data-check="trace"]')).to_contain_text("第一个错误的是第 2 步")
    expect(page.locator('#lang-switch button[value="zh"]')).to_have_attribute("aria-current", "true")
    shot(page, "11-submission-in-chinese")

    # the next page, and a new login, stay Chinese (the browser itself asks for en-US)
    page.click("header nav a >> nth=0")
    expect(page.locator("h1")).to_have_text("作业")
    expect(page.locator('tr[data-assignment="backprop-quadratic"] time')).to_contain_text("2026")
    page.click("header nav form button.link")  # log out
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("h1")).to_have_text("登录")
    assert page.problems == []


def test_a_student_uploads_a_notebook_and_reads_the_error_by_cell(live, page):
    from playwright.sync_api import expect

    from notebook_files import colab_notebook, script_cells

    # without the per-step prints: the stored output keeps its first 8000 characters, the last cell's among them;
    # the gradients never zeroed, so that the first-difference table names a cell too
    mistake = (QUADRATIC / "mistakes" / "no_zero_grad.py").read_text()
    cells = script_cells("\n".join(line for line in mistake.split("\n") if "grad:" not in line))
    cells[-1] += "\nprint(undefined_name)"
    loop = next(i for i, c in enumerate(cells) if "l.backward()" in c)
    notebook = Path(live.pipe.logs) / "作业.ipynb"
    notebook.write_text(colab_notebook(cells))
    last = len(cells) + 1  # Colab's notebook starts with a markdown cell
    live.pipe.worker()
    page.goto(f"{live.url}/login")
    page.fill("input[name=username]", "wang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live.url}/assignments/backprop-quadratic")
    page.set_input_files("input[type=file]", str(notebook))
    page.click("#upload-form button[type=submit]")
    expect(page.locator("#live")).to_have_attribute("data-status", "graded", timeout=90_000)
    expect(page.locator('tr[data-check="runs"]')).to_contain_text(
        f"Your notebook raised NameError in cell {last}, line 2: name 'undefined_name' is not defined")
    expect(page.locator(f'pre.cell-output[data-cell="{last}"]')).to_contain_text("Predict(after training) 4")
    line = cells[loop].splitlines().index("        l.backward()") + 1
    expect(page.locator("table.first td.where")).to_have_text(f"cell {loop + 2}, line {line}")
    shot(page, "11-notebook-error")
    page.click("text=History")
    page.locator("tr[data-submission] >> text=source").first.click()
    expect(page.locator(f"#cell-{last} h3")).to_contain_text(f"Cell {last}")
    expect(page.locator(f"#C{last}L2")).to_contain_text("print(undefined_name)")
    expect(page.locator("#cell-1")).to_contain_text("Homework (Colab)")  # the markdown cell, numbered too
    shot(page, "12-notebook-source")
    assert page.problems == []
