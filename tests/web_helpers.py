"""Helpers for the page tests (their fixtures, template_db, app and client, are in tests/conftest.py): the
course every app starts with (every shipped assignment; students, one with a Chinese name and one whose name
is a spreadsheet formula; a TA and an instructor, all with one password), a broker that only records,
logging in, uploading, and graded submissions written straight into the database (the worker's real output
is covered by the browser tests)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np

from grader.db import Database, upgrade
from grader.expected import expected_for
from grader.models import CheckResultRow, Submission, User, utcnow
from grader.outcome import Outcome, RunReport, TensorData, TraceStep
from grader.reference import mistake_variants, train
from grader.expected import Expected
from grader.series import step_series
from grader.service import accounts, catalog
from grader.spec import load_spec
from grader.web import create_app
from service_helpers import ASSIGNMENTS

PASSWORD = "correct horse 1"
USERS = (("alice", "student", "Alice"), ("bob", "student", "=HYPERLINK(\"http://x\")"), ("wang", "student", "王芳"),
         ("tina", "ta", "Tina TA"), ("ivan", "instructor", "Ivan Prof"))
QUADRATIC = ASSIGNMENTS / "backprop-quadratic"
SOLUTION = (QUADRATIC / "solution.py").read_text()
CSRF = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


class RecordingSender:
    """Stands in for the broker: the pages' tests check what would be sent (grade tasks by id, other tasks by
    name, as the dry run), not Redis."""

    def __init__(self):
        self.sent: list[int] = []
        self.tasks: list[tuple[str, list]] = []

    def send(self, submission_id: int) -> bool:
        self.sent.append(submission_id)
        return True

    def send_task(self, name: str, args: list) -> bool:
        self.tasks.append((name, args))
        return True

    def ping(self, timeout: float = 1.0) -> bool:
        return True

    def close(self) -> None:
        pass


def build_course(path: Path) -> Path:
    """A migrated SQLite database at `path` with every shipped assignment and USERS."""
    url = f"sqlite:///{path}"
    upgrade(url)
    db = Database(url)
    with db.session() as session:
        catalog.load_assignments(session, ASSIGNMENTS)
        for name, role, display in USERS:
            accounts.create_user(session, name, role, PASSWORD, display_name=display)
    db.dispose()
    return path


def make_app(db_path, *, sender=None, **settings):
    """The app on the database at db_path; its broker is `sender`, else a RecordingSender (`sender=False`: the
    app's own, for a real broker)."""
    config = {"database_url": f"sqlite:///{db_path}", "broker_url": "redis://127.0.0.1:1/0",
              "ratelimit_storage_url": "memory://", "secret_key": "k" * 40, "assignments_dir": str(ASSIGNMENTS),
              **settings}
    app = create_app(config)
    if sender is not False:
        app.extensions["grader.sender"] = sender or RecordingSender()
    return app


def db_of(app) -> Database:
    return app.extensions["grader.db"]


def user_id(app, name: str) -> int:
    with db_of(app).session() as session:
        return accounts.find_user(session, name).id


def csrf_from(client, path: str) -> str:
    page = client.get(path)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def login(client, name: str = "alice", password: str = PASSWORD):
    token = csrf_from(client, "/login")
    return client.post("/login", data={"csrf_token": token, "username": name, "password": password})


def client_as(app, name: str):
    """A new client of `app`, logged in as `name`."""
    c = app.test_client()
    response = login(c, name)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return c


def upload(client, assignment: str = "backprop-quadratic", *, code: str | None = None, content: bytes | None = None,
           filename: str = "hw.py", token: str | None = None, with_token: bool = True):
    """POST the upload form: a file (content, filename) or pasted code."""
    data = {}
    if with_token:
        data["csrf_token"] = token or csrf_from(client, f"/assignments/{assignment}")
    if code is not None:
        data["code"] = code
    if content is not None:
        import io

        data["file"] = (io.BytesIO(content), filename)
    return client.post(f"/assignments/{assignment}", data=data, content_type="multipart/form-data")


# ---------------------------------------------------------------------------------------------
# Graded submissions without a worker


def _outcome_of(run, params) -> Outcome:
    steps = [TraceStep(grads={p: TensorData(shape=[], data=[float(v) for v in np.ravel(s.grads[p])]) for p in params},
                       loss=s.loss) for s in run.steps]
    return Outcome(status="ok", backward_calls=len(steps), trace=steps)


def series_for(variant_code: str | None) -> dict:
    spec = load_spec(QUADRATIC / "assignment.yaml")
    ref: Expected = expected_for(spec)
    params = list(spec.model.params)
    run = ref.run
    if variant_code:
        variant = next(v for v in mistake_variants(ref.schedule) if v.code == variant_code)
        run = train(ref.problem, ref.schedule, variant)
    return step_series(ref.run, RunReport(outcome=_outcome_of(run, params)), params)


def add_graded(app, username: str = "alice", *, assignment: str = "backprop-quadratic", mistake: bool = True,
               source: str = SOLUTION, filename: str = "hw.py", stdout: str = "\tgrad: 1.0 2.0 -2.0\n",
               submitted_at: dt.datetime | None = None, status: str = "graded") -> int:
    """A submission as the worker would leave it: five checks (one after_deadline) plus a hidden one."""
    when = submitted_at or utcnow() - dt.timedelta(minutes=5)
    first = {"step": 2, "epoch": 1, "sample": 2, "param": "w1", "expected": 22.88, "got": 24.880001,
             "matched": 1, "steps": 300}
    trace_details = {"series": series_for("mistake.no_zero_grad" if mistake else None)}
    if mistake:
        trace_details["first"] = first
    checks = [
        ("runs", "runs", True, 10, 10, "visible", "runs.ok", {}, {}),
        ("gradients", "gradients", True, 30, 30, "visible", "gradients.ok", {"probes": 8}, {}),
        ("trace", "trace", not mistake, 0.1 if mistake else 30, 30, "visible",
         "trace.first_divergence" if mistake else "trace.ok", first if mistake else {"steps": 300}, trace_details),
        ("params", "final_params", not mistake, 0 if mistake else 15, 15, "visible",
         "final_params.mismatch" if mistake else "final_params.ok",
         {"param": "w1", "expected": 0.240382, "got": float("nan")} if mistake else {}, {}),
        ("prediction", "predictions", not mistake, 0 if mistake else 15, 15, "after_deadline",
         "predictions.mismatch" if mistake else "predictions.ok",
         {"x": 4.0, "expected": 8.54417, "got": 1e30} if mistake else {}, {}),
        ("secret", "predictions", True, 0, 0, "hidden", "predictions.ok", {}, {}),
    ]
    with db_of(app).session() as session:
        user = accounts.find_user(session, username)
        score = 40.1 if mistake else 100.0
        s = Submission(user_id=user.id, assignment_id=assignment, source=source, sha256="0" * 64, filename=filename,
                       submitted_at=when, enqueued_at=when, status=status, attempt=1,
                       finished_at=when + dt.timedelta(seconds=2) if status in ("graded", "failed") else None,
                       score=score if status == "graded" else None, max_score=100.0 if status == "graded" else None,
                       diagnoses=[{"code": "mistake.no_zero_grad", "params": {}}] if mistake else [],
                       stdout_excerpt=stdout)
        session.add(s)
        session.flush()
        if status == "graded":
            for i, (cid, kind, passed, points, max_points, vis, code, params, details) in enumerate(checks):
                session.add(CheckResultRow(submission_id=s.id, check_id=cid, position=i, kind=kind, passed=passed,
                                           points=points, max_points=max_points, visibility=vis,
                                           message_code=code, message_params=_json_safe(params), details=details))
        return s.id


def _json_safe(params: dict) -> dict:
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in params.items()}


def set_deadline(app, assignment: str, deadline: dt.datetime) -> None:
    from grader.models import Assignment

    with db_of(app).session() as session:
        session.get(Assignment, assignment).deadline = deadline


def set_user(app, name: str, **fields) -> None:
    with db_of(app).session() as session:
        user = session.query(User).filter_by(username=name).one()
        for key, value in fields.items():
            setattr(user, key, value)


def never_ran(app, sid: int, code: str = "runs.syntax_error") -> None:
    """Make a graded submission one whose script never ran: its runs check failed with `code`, nothing traced."""
    with db_of(app).session() as session:
        for row in session.query(CheckResultRow).filter_by(submission_id=sid):
            if row.kind == "runs":
                row.passed, row.points, row.message_code = False, 0, code
                row.message_params = {"line": 3, "message": "invalid syntax", "type": "ValueError"}
            if row.kind == "trace":
                series = dict(row.details["series"])
                series["steps"] = {**series["steps"], "student": 0}
                series["loss"] = {**series["loss"], "student": []}
                series["grads"] = {p: {**g, "student": []} for p, g in series["grads"].items()}
                row.details = {"series": series}
        session.get(Submission, sid).diagnoses = []
