"""The submission lifecycle (grader.submissions): one rule for what an upload must be and the name it runs
under, and one requeue() for a regrade, the reaper and a retry."""
from __future__ import annotations

import pytest

from grader.db import Database
from grader.models import Submission, utcnow
from grader.service import accounts
from grader.source_text import GB18030, UTF8
from grader.submissions import (DEFAULT_NAME, REQUEUE_REAPER, REQUEUE_RECOVERED, REQUEUE_REGRADE, REQUEUE_RETRY,
                                SubmissionError, accept, requeue, script_name, store)

SCRIPT = "print('梯度')\n"


@pytest.mark.parametrize("name, expected", [
    ("hw.py", "hw.py"), ("作业.py", "作业.py"), ("HW.PY", "HW.PY"), ("../../etc/passwd.py", "passwd.py"),
    ("C:\\Users\\me\\hw.py", "hw.py"), ("hw (1).py", "hw (1).py"),  # a browser's second download of a file
    ("re\u0301sume\u0301.py", "r\u00e9sum\u00e9.py"),  # decomposed accents, as a Mac writes them, recomposed
    ("x.txt", DEFAULT_NAME), (".hidden.py", DEFAULT_NAME), ("a\nb.py", DEFAULT_NAME), ("a\x00b.py", DEFAULT_NAME),
    ("\u202eyp.exe.py", DEFAULT_NAME),  # a right-to-left override would show the name backwards
    ("反" * 84 + ".py", "反" * 84 + ".py"), ("反" * 90 + ".py", DEFAULT_NAME),  # 255 bytes fit, 273 do not
    ("", DEFAULT_NAME), (None, DEFAULT_NAME),
])
def test_a_script_is_stored_and_run_under_its_own_name_when_the_sandbox_can_write_it(name, expected):
    assert script_name(name) == expected
    assert script_name(script_name(name)) == script_name(name)  # the worker applies it again to stored names


def test_an_accepted_upload_is_utf8_text_with_its_encoding_and_name():
    assert accept(SCRIPT.encode("utf-8"), "dir/作业.py") == accept(b"\xef\xbb\xbf" + SCRIPT.encode(), "作业.py")
    gbk = accept(SCRIPT.encode("gbk"), "hw.py")
    assert (gbk.source, gbk.filename, gbk.encoding) == (SCRIPT, "hw.py", GB18030)
    assert accept(SCRIPT.encode(), "hw.py").encoding == UTF8


@pytest.mark.parametrize("data, name, limit, english, chinese", [
    (b"print(1)\n", "hw.txt", 1024, "Only Python files (.py) and Jupyter notebooks (.ipynb) are accepted; hw.txt is neither.", "只接受"),
    (b"x" * 1025, "hw.py", 1024, "The file is larger than 1 KB", "文件大于 1 KB"),
    (b"print('\xff\xfe')\n", "hw.py", 1024, "The file is not UTF-8 text (the byte at position 7", "UTF-8"),
    (b"\xef\xbb\xbf \n\t", "hw.py", 1024, "The file is empty.", "文件为空"),  # blank once decoded, BOM and all
    (b"print(1)\x00\n", "hw.py", 1024, "The file contains a NUL byte", "NUL 字节"),
])
def test_a_refused_upload_says_why_in_either_language(data, name, limit, english, chinese):
    with pytest.raises(SubmissionError) as refused:
        accept(data, name, limit)
    assert str(refused.value).startswith(english) and refused.value.render("en") == str(refused.value)
    assert chinese in refused.value.render("zh") and refused.value.render("zh") != str(refused.value)


@pytest.fixture
def rows(template_db, tmp_path):  # noqa: F811
    """Three submissions of alice's, as a worker left them: one graded, one running, one failed on our side."""
    path = tmp_path / "grader.db"
    path.write_bytes(template_db.read_bytes())
    db = Database(f"sqlite:///{path}")
    with db.session() as session:
        alice = accounts.find_user(session, "alice")
        ids = []
        for status, token, code in (("graded", None, None), ("running", "token-1", None),
                                    ("failed", None, "failure.sandbox")):
            s = store(session, alice, "backprop-linear", SCRIPT, "hw.py")
            s.status, s.attempt, s.attempt_token, s.error_code = status, 3, token, code
            s.error_params = {"worker": "w1", "detail": "no docker"} if code else None
            s.finished_at = utcnow() if status != "running" else None
            s.alive_at = utcnow() if status == "running" else None
            ids.append(s.id)
    yield db, ids
    db.dispose()


def _state(db: Database, submission_id: int) -> tuple:
    with db.session() as session:
        s = session.get(Submission, submission_id)
        assert s.alive_at is None or s.status == "running"
        return s.status, s.attempt, s.attempt_token, s.error_code, s.requeue_reason


def test_a_regrade_is_a_new_grading_attempts_from_zero_and_no_old_failure(rows):
    db, ids = rows
    with db.session() as session:
        assert requeue(session, ids, REQUEUE_REGRADE) == 3
    assert [_state(db, i) for i in ids] == [("queued", 0, None, None, REQUEUE_REGRADE)] * 3
    with db.session() as session:
        assert all(session.get(Submission, i).finished_at is None for i in ids)


def test_a_recovered_failure_starts_its_attempts_again_and_keeps_its_cause(rows):
    db, (_graded, _running, failed) = rows
    with db.session() as session:
        requeue(session, [failed], REQUEUE_RECOVERED)
    assert _state(db, failed) == ("queued", 0, None, "failure.sandbox", REQUEUE_RECOVERED)


def test_the_reaper_requeues_a_lost_attempt_with_its_cause_and_keeps_the_attempts(rows):
    db, (graded, running, _failed) = rows
    with db.session() as session:
        requeue(session, [running], REQUEUE_REAPER, cause=("failure.worker_lost", {"worker": "w1"}))
    assert _state(db, running) == ("queued", 3, None, "failure.worker_lost", REQUEUE_REAPER)
    assert _state(db, graded)[0] == "graded"


def test_a_retry_gives_back_only_its_own_attempt(rows):
    db, (_graded, running, _failed) = rows
    cause = ("failure.sandbox", {"worker": "w1", "detail": "no docker"})
    with db.session() as session:
        assert requeue(session, [running], REQUEUE_RETRY, cause=cause, token="a newer attempt's") == 0
    assert _state(db, running)[:3] == ("running", 3, "token-1")
    with db.session() as session:
        assert requeue(session, [running], REQUEUE_RETRY, cause=cause, token="token-1") == 1
    assert _state(db, running) == ("queued", 3, None, "failure.sandbox", REQUEUE_RETRY)
    with db.session() as session:
        assert session.get(Submission, running).error_params == cause[1]


def test_a_requeue_needs_a_known_reason(rows):
    db, ids = rows
    with db.session() as session, pytest.raises(ValueError, match="requeue.regrade"):
        requeue(session, ids, "because")
