"""The data model and the service's admin commands, on SQLite and on a real PostgreSQL."""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from grader.db import Database, current_revision, upgrade
from grader.models import Assignment, CheckResultRow, Submission, User
from grader.service import accounts, attempts, catalog, export
from grader.service.reaper import reap
from grader.submissions import store
from service_helpers import ASSIGNMENTS, ROOT, grader_in_process

GRADER = str(Path(sys.executable).with_name("grader"))


def grader(*args: str, url: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """The grader command on the database at `url`, in this process (service_helpers.grader_in_process)."""
    return grader_in_process(*args, env={"GRADER_DATABASE_URL": url}, cwd=cwd)


def installed_grader(*args: str, url: str) -> subprocess.CompletedProcess:
    """The installed console script, in its own process, as an operator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env["GRADER_DATABASE_URL"] = url
    return subprocess.run([GRADER, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def assert_clean_error(proc: subprocess.CompletedProcess, *phrases: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    for phrase in phrases:
        assert phrase in proc.stderr, proc.stderr


@pytest.fixture
def db(any_db_url):
    upgrade(any_db_url)
    database = Database(any_db_url)
    with database.session() as session:
        catalog.load_assignments(session, ASSIGNMENTS)
    yield database
    database.dispose()


def test_migrations_create_every_table_and_reach_head(any_db_url):
    upgrade(any_db_url)
    upgrade(any_db_url)  # a second upgrade is a no-op
    from alembic.script import ScriptDirectory

    from grader.db import alembic_config

    assert current_revision(any_db_url) == ScriptDirectory.from_config(alembic_config(any_db_url)).get_current_head()
    tables = set(sa.inspect(sa.create_engine(Database(any_db_url).url)).get_table_names())
    assert {"users", "assignments", "submissions", "check_results", "alembic_version"} <= tables


def test_dashboard_queries_have_indexes(any_db_url):
    upgrade(any_db_url)
    engine = Database(any_db_url).engine
    indexes = {tuple(ix["column_names"]) for ix in sa.inspect(engine).get_indexes("submissions")}
    assert ("assignment_id", "user_id", "submitted_at") in indexes
    assert ("status", "enqueued_at") in indexes
    assert ("user_id", "submitted_at") in indexes
    engine.dispose()


def test_loading_assignments_twice_changes_nothing_and_a_changed_spec_bumps_the_version(db, tmp_path):
    with db.session() as session:
        report = catalog.load_assignments(session, ASSIGNMENTS)
    assert report.added == [] and report.updated == [] and len(report.unchanged) == len(list(ASSIGNMENTS.glob("*/assignment.yaml")))
    folder = tmp_path / "assignments"
    shutil.copytree(ASSIGNMENTS / "backprop-linear", folder / "backprop-linear")
    spec = folder / "backprop-linear" / "assignment.yaml"
    spec.write_text(spec.read_text().replace("title: \"", "title: \"Changed - ", 1))
    with db.session() as session:
        report = catalog.load_assignments(session, folder)
    assert report.updated == ["backprop-linear"]
    with db.session() as session:
        row = session.get(Assignment, "backprop-linear")
        assert row.version == 2 and row.title.startswith("Changed")
        row.draft_yaml = "id: backprop-linear\n"  # an instructor's draft of version 2, waiting on the manage page
    spec.write_text(spec.read_text().replace("Changed - ", "Changed again - ", 1))
    with db.session() as session:
        assert catalog.load_assignments(session, folder).updated == ["backprop-linear"]
    with db.session() as session:
        row = session.get(Assignment, "backprop-linear")
        # the same rule as publishing from the manage page (catalog.write_spec): the draft was of an older version
        assert row.version == 3 and row.title.startswith("Changed again") and row.draft_yaml is None


def test_a_submission_round_trips_with_aware_times_and_check_results(db):
    with db.session() as session:
        user = accounts.create_user(session, "alice")
        sub = store(session, user, "backprop-linear", "print(1)\n", "../../hw.py")
    assert sub.filename == "hw.py" and sub.status == "queued" and sub.sha256
    with db.session() as session:
        session.add(CheckResultRow(submission_id=sub.id, check_id="runs", kind="runs", passed=True, points=10,
                                   max_points=10, message_code="runs.ok", message_params={"a": [1, 2]}))
    with db.session() as session:
        got = session.get(Submission, sub.id)
        assert got.submitted_at.tzinfo is not None
        assert got.checks[0].message_params == {"a": [1, 2]}
        assert got.user.username == "alice" and got.assignment.title


def _result(score: float = 10.0):
    from grader.checks.result import CheckResult
    from grader.messages import Message
    from grader.scoring import GradeResult

    return GradeResult("backprop-linear", score, 100.0,
                       [CheckResult("runs", "runs", True, 10.0, 10.0, Message("runs.ok"))], [], "out", "")


def _age_lease(db, submission_id: int, seconds: float) -> None:
    import datetime as dt

    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=seconds)
    with db.session() as session:
        session.execute(sa.update(Submission).where(Submission.id == submission_id).values(alive_at=old))


def test_a_duplicate_delivery_leaves_a_live_attempt_alone(db):
    with db.session() as session:
        sub = store(session, accounts.create_user(session, "bob"), "backprop-linear", "x = 1\n", "hw.py")
    first = attempts.claim(db, sub.id, "w1", max_attempts=5, lease_seconds=30)
    assert first is not None
    for extra in range(8):  # duplicates while the attempt renews its lease: nothing to do, no attempt counted
        assert attempts.claim(db, sub.id, f"w{extra + 2}", max_attempts=5, lease_seconds=30) is None
        assert attempts.renew(db, first)
    assert attempts.write_result(db, first, _result()) is True
    assert attempts.claim(db, sub.id, "w3", max_attempts=5) is None  # graded: nothing to do
    with db.session() as session:
        got = session.get(Submission, sub.id)
        assert (got.status, got.attempt, got.worker, got.score) == ("graded", 1, "w1", 10.0)
        assert len(got.checks) == 1 and got.alive_at is None


def test_an_attempt_whose_lease_ran_out_is_taken_over_and_cannot_write(db):
    with db.session() as session:
        sub = store(session, accounts.create_user(session, "bea"), "backprop-linear", "x = 1\n", "hw.py")
    first = attempts.claim(db, sub.id, "w1", max_attempts=5, lease_seconds=30)
    _age_lease(db, sub.id, 31)  # its worker died: no renewal for longer than the lease
    second = attempts.claim(db, sub.id, "w2", max_attempts=5, lease_seconds=30)
    assert second is not None and second.attempt == 2
    assert attempts.renew(db, first) is False
    assert attempts.write_result(db, first, _result()) is False
    assert attempts.write_result(db, second, _result(7.0)) is True
    with db.session() as session:
        assert session.get(Submission, sub.id).score == 7.0


def test_a_retry_after_an_outage_resumes_its_own_attempt_without_counting_one_more(db):
    with db.session() as session:
        sub = store(session, accounts.create_user(session, "ben"), "backprop-linear", "x = 1\n", "hw.py")
    first = attempts.claim(db, sub.id, "w1", max_attempts=5)
    again = attempts.claim(db, sub.id, "w1", max_attempts=5, resume=first.token)
    assert again is not None and again.attempt == 1 and again.token != first.token
    assert attempts.claim(db, sub.id, "w1", max_attempts=5, resume="not-the-token") is None


def test_a_submission_that_keeps_failing_is_failed_with_its_last_real_cause(db):
    from grader.messages import render_failure

    with db.session() as session:
        sub = store(session, accounts.create_user(session, "carl"), "backprop-linear", "x = 1\n", "hw.py")
    claim = attempts.claim(db, sub.id, "w1", max_attempts=1)
    assert claim is not None
    attempts.release(db, claim, attempts.SANDBOX_FAILED, {"worker": "w1", "detail": "docker: no daemon"})
    assert attempts.claim(db, sub.id, "w1", max_attempts=1) is None
    with db.session() as session:
        got = session.get(Submission, sub.id)
        assert got.status == "failed" and got.error_code == attempts.ATTEMPTS_EXHAUSTED
        assert got.error_params == {"attempts": 1, "cause": attempts.SANDBOX_FAILED,
                                    "cause_params": {"worker": "w1", "detail": "docker: no daemon"}}
        text = render_failure(got.error_code, got.error_params, "en")
    assert text == ("Grading did not finish after 1 attempts. The last one: The sandbox of worker w1 could not "
                    "run the script: docker: no daemon")
    assert "docker: no daemon" in render_failure(got.error_code, got.error_params, "zh")


def test_the_reaper_resends_stuck_submissions_and_voids_their_attempt(db):
    import datetime as dt

    from grader.config import Config

    with db.session() as session:
        user = accounts.create_user(session, "dora")
        stuck_q = store(session, user, "backprop-linear", "a = 1\n", "a.py")
        fresh_q = store(session, user, "backprop-linear", "b = 1\n", "b.py")
        running = store(session, user, "backprop-linear", "c = 1\n", "c.py")
        live = store(session, user, "backprop-linear", "d = 1\n", "d.py")
        waiting = store(session, user, "backprop-linear", "e = 1\n", "e.py")
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    claim = attempts.claim(db, running.id, "w1", max_attempts=5)
    assert attempts.claim(db, live.id, "w2", max_attempts=5) is not None
    with db.session() as session:
        session.execute(sa.update(Submission).where(Submission.id.in_([stuck_q.id, waiting.id]))
                        .values(enqueued_at=old))
    _age_lease(db, running.id, 61)
    sent = []
    config = Config(queued_deadline=60, running_deadline=800, lease_seconds=60)
    reaped = reap(db, config, lambda i: sent.append(i) or True, waiting=lambda ids: {waiting.id} & set(ids))
    assert reaped.queued == [stuck_q.id] and reaped.running == [running.id] and sorted(sent) == sorted(reaped.ids)
    assert fresh_q.id not in sent and live.id not in sent  # too young; still renewing its lease
    assert waiting.id not in sent  # its message still waits in the broker: no second copy
    assert not attempts.write_result(db, claim, _result())
    with db.session() as session:
        got = session.get(Submission, running.id)
        assert (got.status, got.error_code, got.error_params) == ("queued", attempts.WORKER_LOST, {"worker": "w1"})


def test_the_reaper_requeues_infrastructure_failures_once_a_healthy_worker_comes_up(db):
    import datetime as dt

    from grader.config import Config
    from grader.service import queue

    with db.session() as session:
        user = accounts.create_user(session, "eve")
        broken = store(session, user, "backprop-linear", "a = 1\n", "a.py")
        student = store(session, user, "backprop-linear", "b = 1\n", "b.py")
    attempts.give_up(db, broken.id, attempts.SANDBOX_FAILED, {"worker": "w1", "detail": "no docker daemon"})
    with db.session() as session:  # a failure that is not ours (a broken spec) stays failed
        session.execute(sa.update(Submission).where(Submission.id == student.id).values(
            status="failed", error_code=attempts.SPEC_BROKEN, error_params={"detail": "x"},
            finished_at=dt.datetime.now(dt.timezone.utc)))
    config = Config()
    queue.beat(db, "w1/1", healthy=False, problem="no docker daemon")
    assert reap(db, config, lambda i: True).failed == []  # no healthy worker yet
    queue.beat(db, "w1/1", healthy=True)  # fixed
    sent = []
    assert reap(db, config, lambda i: sent.append(i) or True).failed == [broken.id] == sent
    with db.session() as session:
        got = session.get(Submission, broken.id)
        assert (got.status, got.attempt) == ("queued", 0)
    attempts.give_up(db, broken.id, attempts.SANDBOX_FAILED, {"worker": "w1", "detail": "again"})
    assert reap(db, config, lambda i: True).failed == []  # failed again on a healthy worker: left for staff


def test_cli_sets_up_a_database_from_nothing(any_db_url, tmp_path):
    assert installed_grader("db", "upgrade", url=any_db_url).returncode == 0
    proc = installed_grader("assignments", "load", str(ASSIGNMENTS), url=any_db_url)
    assert proc.returncode == 0 and "added: backprop-linear, backprop-quadratic" in proc.stdout
    proc = installed_grader("users", "create", "prof", "--role", "instructor", url=any_db_url)
    assert proc.returncode == 0 and "password:" in proc.stdout
    proc = installed_grader("users", "create", "prof", url=any_db_url)
    assert_clean_error(proc, "already exists")
    token = installed_grader("users", "token", "prof", url=any_db_url).stdout.strip()
    assert len(token) >= 40
    db = Database(any_db_url)
    with db.session() as session:
        assert accounts.user_for_token(session, token).username == "prof"
        assert accounts.user_for_token(session, token + "x") is None
    db.dispose()


def test_users_import_creates_updates_and_prints_generated_passwords(any_db_url, tmp_path):
    grader("db", "upgrade", url=any_db_url)
    roster = tmp_path / "roster.csv"
    roster.write_text("username,display_name,role\nwang,Wang Wei,student\nli,Li Na,ta\nzhao,赵六,student\n",
                      encoding="utf-8")
    proc = grader("users", "import", str(roster), url=any_db_url)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["username"] for r in rows] == ["wang", "li", "zhao"] and all(len(r["password"]) >= 12 for r in rows)
    roster.write_text("username,display_name,role\nli,Li Na,instructor\n")
    assert grader("users", "import", str(roster), url=any_db_url).returncode == 0
    db = Database(any_db_url)
    with db.session() as session:
        li = accounts.find_user(session, "li")
        assert li.role == "instructor"
        assert accounts.check_password(accounts.find_user(session, "wang"), rows[0]["password"])
        assert li.password_hash.startswith("$argon2id$")
    db.dispose()


@pytest.mark.parametrize("content, message", [
    ("username,display_name,role\nok,OK,student\nbad,Bad,professor\n", "roster.csv:3: role: expected one of"),
    ("username,display_name,role\na,A,student\na,A again,student\n", "roster.csv:3: username: 'a' already appears on line 2"),
    ("username,display_name,role\nx,X\n", "roster.csv:2: expected 3 fields"),
    ("name,role\nx,student\n", "roster.csv:1: the header must name"),
    ("", "roster.csv: the file is empty"),
    ("username\n../etc,\n", "roster.csv:2:"),
])
def test_a_malformed_roster_names_the_line_and_imports_nothing(sqlite_url, tmp_path, content, message):
    grader("db", "upgrade", url=sqlite_url)
    roster = tmp_path / "roster.csv"
    roster.write_text(content)
    proc = grader("users", "import", str(roster), url=sqlite_url)
    assert_clean_error(proc, message)
    db = Database(sqlite_url)
    with db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    db.dispose()


def test_bad_inputs_get_one_clear_line(sqlite_url, tmp_path):
    assert_clean_error(grader("users", "create", "x", url=sqlite_url), "run `grader db upgrade` first")
    grader("db", "upgrade", url=sqlite_url)
    assert_clean_error(grader("users", "import", str(tmp_path / "none.csv"), url=sqlite_url), "cannot read")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00")
    assert_clean_error(grader("users", "import", str(tmp_path / "bin.csv"), url=sqlite_url), "not UTF-8")
    assert_clean_error(grader("users", "create", "bad name!", url=sqlite_url), "not a valid username")
    assert_clean_error(grader("users", "create", "x", "--password", "short", url=sqlite_url), "at least 8")
    assert_clean_error(grader("users", "token", "ghost", url=sqlite_url), "no user named 'ghost'")
    assert_clean_error(grader("export", "--assignment", "nope", url=sqlite_url), "unknown assignment 'nope'")
    broken = tmp_path / "broken" / "broken"
    broken.mkdir(parents=True)
    (broken / "assignment.yaml").write_text("id: broken\ntitle: x\n")
    assert_clean_error(grader("assignments", "load", str(tmp_path / "broken"), url=sqlite_url),
                       "no assignment was loaded", "assignment.yaml")
    assert_clean_error(grader("db", "upgrade", url="postgresql://nobody@127.0.0.1:1/none"), "cannot migrate")


def test_export_has_one_row_per_student_with_best_latest_and_late(db):
    import datetime as dt

    with db.session() as session:
        alice = accounts.create_user(session, "alice", display_name="=HYPERLINK()")
        accounts.create_user(session, "idle")
        accounts.create_user(session, "ta1", role="ta")
        t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        for minutes, score, penalty in ((0, 80.0, 0.0), (5, 60.0, 0.1), (10, None, 0.0)):
            sub = store(session, alice, "backprop-linear", f"# {minutes}\n", "hw.py",
                        now=t0 + dt.timedelta(minutes=minutes))
            if score is not None:
                sub.status, sub.score, sub.max_score, sub.late_penalty = "graded", score, 100.0, penalty
    with db.session() as session:
        rows = export.export_rows(session, "backprop-linear")
        text = export.to_csv(rows)
    assert [r["username"] for r in rows] == ["alice", "idle"]
    assert rows[0] | {} == {"username": "alice", "display_name": "=HYPERLINK()", "submissions": 3, "graded": 2,
                            "best_score": 80.0, "latest_status": "queued", "latest_score": None, "max_score": 100.0,
                            "late": 1}  # the newest is still queued: latest is it (grader.service.standings)
    assert rows[1]["submissions"] == 0 and rows[1]["best_score"] is None
    assert "'=HYPERLINK()" in text  # never a live formula in a spreadsheet


def test_the_reaper_ends_dry_runs_no_worker_finished(db):
    import datetime as dt

    from grader.config import Config
    from grader.models import DryRun

    config = Config(queued_deadline=60, task_soft_seconds=100, task_hard_seconds=120)
    now = dt.datetime.now(dt.timezone.utc)
    with db.session() as session:
        rows = {name: DryRun(assignment_id="backprop-linear", spec_yaml="x", spec_hash="0" * 64, status=status,
                             created_at=now - dt.timedelta(seconds=age))
                for name, status, age in (("lost_running", "running", 181), ("lost_queued", "queued", 500),
                                          ("young", "running", 170), ("done", "done", 5000))}
        session.add_all(rows.values())
        session.flush()
        ids = {name: row.id for name, row in rows.items()}
    reaped = reap(db, config, lambda i: True, now=now)
    assert reaped.dry_runs == sorted([ids["lost_running"], ids["lost_queued"]])
    with db.session() as session:
        lost = session.get(DryRun, ids["lost_running"])
        assert lost.status == "failed" and lost.finished_at is not None
        assert lost.result["ok"] is False and lost.result["problems"][0]["code"] == "dry_run.lost"
        assert session.get(DryRun, ids["young"]).status == "running"
        assert session.get(DryRun, ids["done"]).status == "done"
    assert reap(db, config, lambda i: True, now=now).dry_runs == []  # once
