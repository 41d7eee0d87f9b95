"""Every shared fixture of the suite (test modules import helpers by name, never fixtures).

- Sandboxes: `sandbox`, the real fork server running worker/harness.py, started once for the whole session
  and shared by every module that grades scripts (`task_runtime` points worker.tasks' runtime at it);
  `forkserver_sandbox` and `bwrap_sandbox`, one each per session, running tests/sandbox_fake_harness.py (a
  stand-in whose behaviour the sandbox tests control).
  The hostile suite starts its own fork server: it must start after the suite has planted secrets in the
  environment, and it counts that server's restarts.
- Services (tests/service_helpers.py): a PostgreSQL cluster per session and a database per test, Redis per
  test, worker and reaper processes.
- The web app (tests/web_helpers.py): one course database made once per session; each test's `app` runs on a
  copy of it, with a broker that only records; `client` is its test client.
- The browser: `page`, headless Chromium (tests/browser_helpers.py).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from browser_helpers import CHROMIUM, CHROMIUM_ARGS, SHOTS
from service_helpers import Pipeline, PostgresServer, RedisServer
from web_helpers import build_course, db_of, make_app

FAKE_HARNESS = Path(__file__).with_name("sandbox_fake_harness.py")


# --- sandboxes ---------------------------------------------------------------------------------


def _require_user_namespaces() -> None:
    from worker.sandbox import SandboxUnavailable, check_user_namespaces

    try:
        check_user_namespaces()
    except SandboxUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def sandbox():
    """The real fork server with the real harness, as a worker runs it (it imports torch once, for the session).
    Each job forks a fresh child, so nothing of one test's job reaches another's."""
    from worker.sandbox import get_sandbox

    box = get_sandbox("forkserver")
    yield box
    box.close()


@pytest.fixture(scope="session")
def fake_harness() -> Path:
    return FAKE_HARNESS


@pytest.fixture(scope="session")
def forkserver_sandbox():
    """A started fork server running the fake harness (it imports torch once: a second or two)."""
    _require_user_namespaces()
    from worker.sandbox.forkserver import ForkServerSandbox

    with ForkServerSandbox(FAKE_HARNESS) as box:
        box.start()
        yield box


@pytest.fixture(scope="session")
def bwrap_sandbox():
    _require_user_namespaces()
    from worker.sandbox.bwrap import BwrapSandbox

    with BwrapSandbox(FAKE_HARNESS) as box:
        yield box


@pytest.fixture
def task_runtime(sandbox):
    """worker.tasks' runtime for a task run in this process (`task.apply()`): `task_runtime(db)` points it at a
    database and the session's fork server; afterwards the database is disposed and the fork server left running
    (it is the session's, not the runtime's to close)."""
    from worker.tasks import runtime

    def use(db):
        runtime.pid, runtime._db, runtime._sandbox = os.getpid(), db, sandbox
        return runtime

    yield use
    runtime._sandbox = None
    runtime.close()
    runtime.pid, runtime._db, runtime._sandbox = None, None, None


# --- services ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres_server):
    """A fresh, empty PostgreSQL database for one test."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'grader.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request, tmp_path):
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'grader.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        name = server.create_database()
        try:
            yield server.url(name)
        finally:
            server.drop_database(name)


@pytest.fixture
def redis_server():
    server = RedisServer()
    try:
        yield server.start()
    finally:
        server.close()


@pytest.fixture
def pipeline_factory(tmp_path):
    """Build a Pipeline(database_url, redis, **settings); everything it started is stopped afterwards."""
    made: list[Pipeline] = []

    def make(database_url: str, redis: RedisServer, **settings) -> Pipeline:
        pipe = Pipeline(database_url, redis, tmp_path, **settings)
        made.append(pipe)
        return pipe

    try:
        yield make
    finally:
        for pipe in made:
            pipe.close()


# --- the web app -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    """The course (web_helpers.build_course), migrated once; each test gets a copy."""
    return build_course(tmp_path_factory.mktemp("course") / "template.db")


@pytest.fixture
def app(template_db, tmp_path):
    """The app on a fresh copy of the course, with a recording broker (app.extensions["grader.sender"])."""
    path = tmp_path / "grader.db"
    shutil.copy(template_db, path)
    app = make_app(path)
    yield app
    db_of(app).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture
def page(tmp_path):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            timezone_id="Asia/Shanghai", locale="en-US", viewport={"width": 1100, "height": 900})
        try:
            page = context.new_page()
            page.problems = []
            page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: page.problems.append(str(e)))
            page.on("dialog", lambda d: (page.problems.append(f"a dialog opened: {d.message}"), d.dismiss()))
            page.set_default_timeout(15_000)
            yield page
        finally:
            context.close()
