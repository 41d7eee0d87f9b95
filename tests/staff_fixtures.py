"""Fixtures for the staff page tests: an app on a fresh SQLite copy per test with two assignments, students
(one with a Chinese name), a TA and an instructor; a client logged in as each role."""
from __future__ import annotations

import shutil

import pytest

from grader.db import Database, upgrade
from grader.service import accounts, catalog
from service_fixtures import ASSIGNMENTS
from web_fixtures import PASSWORD, RecordingSender, csrf_from, login, make_app  # noqa: F401

STAFF_USERS = (("alice", "student", "Alice"), ("bob", "student", "=HYPERLINK(\"http://x\")"),
               ("wang", "student", "王芳"), ("tina", "ta", "Tina TA"), ("ivan", "instructor", "Ivan Prof"))
LOADED = ("backprop-quadratic", "backprop-linear")


class TaskRecordingSender(RecordingSender):
    """Also records tasks sent by name (the dry run)."""

    def __init__(self):
        super().__init__()
        self.tasks: list[tuple[str, list]] = []

    def send_task(self, name: str, args: list) -> bool:
        self.tasks.append((name, args))
        return True


@pytest.fixture(scope="session")
def staff_template_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("staff-db") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    db = Database(url)
    with db.session() as session:
        for name in LOADED:
            catalog.load_assignments(session, ASSIGNMENTS / name)
        for name, role, display in STAFF_USERS:
            accounts.create_user(session, name, role, PASSWORD, display_name=display)
    db.dispose()
    return path


@pytest.fixture
def app(staff_template_db, tmp_path):
    path = tmp_path / "grader.db"
    shutil.copy(staff_template_db, path)
    app = make_app(path, assignments_dir=str(ASSIGNMENTS))
    app.extensions["grader.sender"] = TaskRecordingSender()
    yield app
    app.extensions["grader.db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def client_as(app, name: str):
    c = app.test_client()
    response = login(c, name)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return c
