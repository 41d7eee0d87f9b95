"""Every page, fragment and message a Chinese-reading student, TA or instructor meets, walked in Chinese: no
English is left but what is data (names, titles, file names, check ids, code, spec errors) or a word on the
allowlist below. The detector itself is checked on the English pages, so it cannot pass by seeing nothing."""
from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest

from grader.messages import render, said
from grader.spec import SpecProblem, parse_spec
from grader.models import Assignment, DryRun, Submission, utcnow
from grader.outcome import OTHER_SIGNAL, SIGNAL_REASONS
from grader.selfcheck import FileCheck
from grader.service import accounts
from service_helpers import ASSIGNMENTS
from web_helpers import USERS, add_graded, csrf_from, db_of, login, set_deadline, set_user, upload, user_id

QUADRATIC = "backprop-quadratic"
CHECK_IDS = {"runs", "gradients", "trace", "params", "prediction", "secret"}  # web_helpers.add_graded's checks
# English a Chinese page may show: the product, the switch's own name for English, units, formats, time zones,
# terms the translations keep on purpose (评分进程（worker）, Python 文件, the assignments folder, the
# solution and mistakes files, a spec's id) and Python's own literals
ALLOWED = {"Backprop", "Grader", "English", "KB", "Python", "NUL", "UTF", "CSV", "JSON", "SVG", "CPU", "UTC", "worker",
           "assignments", "solution", "mistakes", "id", "expect", "None", "nan", "inf",
           "Jupyter", "API", "grader", "submit"} | CHECK_IDS  # a product's name, a command (`grader submit`)
CODE = re.compile(r"\S*[\d._()=\[\]/#<>*+\\-]\S*")  # a token with code in it: w.grad.zero_(), hw.py, v2, a-b


@pytest.fixture
def app(app):
    """The course's app (tests/conftest.py), every user reading Chinese."""
    for name, _role, _display in USERS:
        set_user(app, name, language="zh")
    return app


class Walk:
    """Pages fetched in Chinese, each with the status it must answer, and the English left on each."""

    def __init__(self, app, data: tuple[str, ...] = ()):
        with db_of(app).session() as session:
            titles = [t for a in session.query(Assignment)  # the instructor's words, in both languages
                      for t in (a.title, parse_spec(a.spec_yaml, a.id).title_in("zh"))]
            files = [s.filename for s in session.query(Submission)]
        names = [n for user in USERS for n in (user[0], user[2])]
        self.data = sorted(set(titles + files + names + list(data)), key=len, reverse=True)  # longest first
        self.left: dict[str, list[str]] = {}

    def check(self, label: str, response, status: int = 200) -> str:
        assert response.status_code == status, (label, response.status_code)
        if response.is_json:
            body = response.json
            shown = " ".join(str(body.get(k) or "") for k in ("error", "status_label", "html"))
        else:
            shown = response.get_data(as_text=True)
        words = english_words(shown, self.data) + half_width_colons(shown)
        if words:
            self.left[label] = words
        return shown

    def assert_chinese(self):
        assert not self.left, f"English left on the Chinese pages: {self.left}"


def english_words(page: str, data: list[str] = ()) -> list[str]:
    """The English words a reader sees on `page`, less data, code and the allowlist."""
    page = re.sub(r"<(pre|code|script|style|textarea)\b.*?</\1>", " ", page, flags=re.S)  # code and source
    page = re.sub(r'<select[^>]*name="timezone".*?</select>', " ", page, flags=re.S)  # IANA zone names
    page = re.sub(r'<div class="description">.*?</div>', " ", page, flags=re.S)  # the instructor's text
    page = re.sub(r'<table class="list codes">.*?</table>', " ", page, flags=re.S)  # "checks as stored": codes
    attributes = re.findall(r'\b(?:title|placeholder|aria-label|alt|data-too-large|data-wrong-type)="([^"]*)"', page)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + " ".join(attributes))
    text = re.sub(r"`[^`]*`", " ", text)  # a command quoted in a sentence
    for item in data:
        text = text.replace(item, " ")
    text = CODE.sub(" ", text)
    return sorted({w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in ALLOWED})


def half_width_colons(page: str) -> list[str]:
    """Labels a Chinese page ends with ": " instead of "：" (code and the instructor's text aside)."""
    page = re.sub(r"<(pre|code|script|style|textarea)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'<div class="description">.*?</div>', " ", page, flags=re.S)
    page = re.sub(r'<table class="list codes">.*?</table>', " ", page, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    # after a Chinese word, or its number ("第 3 行: "); a colon after data ("OSError: ...") is the data's own
    return [f"half-width colon after {m.group(1)!r}" for m in re.finditer(r"([\u4e00-\u9fff）」]+ ?#?\d*) ?: ", text)]


def client_of(app, name: str):
    c = app.test_client()
    login(c, name)
    return c


# ---------------------------------------------------------------------------------------------
# the detector


def test_the_detector_finds_english_on_an_english_page(app):
    set_user(app, "alice", language="en")
    sid = add_graded(app, "alice")
    words = english_words(client_of(app, "alice").get(f"/submissions/{sid}").get_data(as_text=True))
    assert {"Score", "Diagnosis", "zeroed", "accumulate", "script"} <= set(words), words
    # and leaves alone what is data or code
    assert english_words("<p>w.grad.zero_() hw.py v2 <code>print</code> English</p>") == []


# ---------------------------------------------------------------------------------------------
# the student


def test_the_student_pages_are_all_chinese(app):
    graded, perfect = add_graded(app, "alice"), add_graded(app, "alice", mistake=False)
    failed, queued = add_graded(app, "alice", status="failed"), add_graded(app, "alice", status="queued")
    walk, c = Walk(app), client_of(app, "alice")
    for path in ("/assignments", f"/assignments/{QUADRATIC}", f"/assignments/{QUADRATIC}/history", "/settings",
                 f"/submissions/{graded}/source"):
        walk.check(path, c.get(path))
    for sid in (graded, perfect, failed, queued):
        walk.check(f"submission {sid}", c.get(f"/submissions/{sid}"))
        walk.check(f"status {sid}", c.get(f"/submissions/{sid}/status"))
    page = c.get(f"/submissions/{graded}").get_data(as_text=True)
    assert page.count("<svg") == 4  # the plots, inline
    for src in re.findall(r'<a class="plot-file" href="([^"]+)"', page):
        svg = c.get(html.unescape(src)).get_data(as_text=True)
        walk.check(f"plot {src}", c.get(html.unescape(src)))
        assert "<text" in svg
    token = csrf_from(c, "/settings")
    walk.check("settings refused", c.post("/settings", data={"csrf_token": token, "language": "xx",
                                                             "timezone": "Mars/Base"}), 400)
    walk.check("settings saved", c.post("/settings", data={"csrf_token": token, "language": "zh", "timezone": ""},
                                        follow_redirects=True))
    walk.assert_chinese()


def test_every_refused_upload_says_why_in_chinese(app):
    walk, c = Walk(app), client_of(app, "alice")
    refusals = {
        "wrong type": dict(content=b"x = 1", filename="hw.txt"),
        "empty": dict(content=b"  \n"),
        "not UTF-8": dict(content=b"\xff\xfe"),
        "NUL byte": dict(content=b"x\x00"),
        "nothing": {},
        "both": dict(code="x = 1", content=b"x = 1"),
    }
    for label, kwargs in refusals.items():
        walk.check(label, upload(c, QUADRATIC, **kwargs), 400)
    walk.check("too large", upload(c, QUADRATIC, content=b"#" * (200 * 1024 + 1)), 413)  # over the script cap
    walk.check("over the request limit", upload(c, QUADRATIC, content=b"#" * (400 * 1024)), 413)
    walk.check("no token", upload(c, QUADRATIC, code="x = 1", with_token=False), 400)
    walk.check("submitted", c.get(upload(c, QUADRATIC, code="x = 1\n").headers["Location"]))
    walk.check("too soon", upload(c, QUADRATIC, code="x = 2\n"), 429)
    set_deadline(app, QUADRATIC, dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    with db_of(app).session() as session:
        for s in session.query(Submission):
            s.submitted_at -= dt.timedelta(hours=1)
    closed = walk.check("closed", upload(c, QUADRATIC, code="x = 3\n"), 403)
    assert "2020年1月4日 00:10 UTC" in html.unescape(closed)  # the date as the viewer's locale writes it
    walk.check("closed page", c.get(f"/assignments/{QUADRATIC}"))
    walk.assert_chinese()


def test_error_pages_and_refusals_before_logging_in_are_chinese(app):
    walk, c = Walk(app), app.test_client()
    zh = {"Accept-Language": "zh-CN"}
    walk.check("login", c.get("/login", headers=zh))
    token = csrf_from(c, "/login")
    walk.check("wrong password", c.post("/login", data={"csrf_token": token, "username": "alice", "password": "no"},
                                        headers=zh), 400)
    walk.check("empty login", c.post("/login", data={"csrf_token": token}, headers=zh), 400)
    walk.check("no token", c.post("/login", data={"username": "alice"}, headers=zh), 400)
    walk.check("404", c.get("/nowhere", headers=zh), 404)
    walk.check("405", c.get("/language", headers=zh), 405)
    walk.check("status, logged out", c.get("/submissions/1/status", headers=zh), 401)
    walk.check("413 outside an upload form", c.post("/login", data={"x": "#" * (400 * 1024)}, headers=zh), 413)
    with db_of(app).session() as session:
        api = {**zh, "Authorization": f"Bearer {accounts.issue_token(session, 'bob')}"}
    # the upload routes take notebooks up to 20 MB; a request past that is refused before it is read
    walk.check("413, API", c.post("/api/submissions", data={"x": "#" * (21 * 1024 * 1024)}, headers=api), 413)
    away = {"REMOTE_ADDR": "10.0.0.9"}
    for _ in range(11):
        tried = c.post("/login", data={"csrf_token": token, "username": "alice", "password": "no"}, headers=zh,
                       environ_overrides=away)
    walk.check("429", tried, 429)
    c = client_of(app, "alice")
    for path in ("/nowhere", "/submissions/999", "/staff/", f"/staff/manage/{QUADRATIC}"):
        walk.check(path, c.get(path), 404)
    walk.check("status 404", c.get("/submissions/999/status"), 404)
    walk.check("no token, logged in", c.post("/logout"), 400)
    walk.assert_chinese()


# ---------------------------------------------------------------------------------------------
# the TA


def test_the_staff_pages_forms_and_flashes_are_chinese(app):
    sid = add_graded(app, "alice")
    add_graded(app, "alice", status="failed")
    queued = add_graded(app, "bob", status="queued")
    walk, c = Walk(app), client_of(app, "tina")
    base = f"/staff/assignments/{QUADRATIC}"
    walk.check("index", c.get("/staff/"))
    for show in ("all", "submitted", "missing", "late", "below_full", "extended", "failed"):
        walk.check(f"show {show}", c.get(f"{base}?show={show}"))
    for sort in ("name", "best", "latest", "submissions", "last", "late"):
        walk.check(f"sort {sort}", c.get(f"{base}?sort={sort}&dir=desc"))
    walk.check("diagnosis", c.get(f"{base}?diagnosis=mistake.no_zero_grad"))
    walk.check("no match", c.get(f"{base}?q=nobody"))
    walk.check("submission", c.get(f"/staff/submissions/{sid}"))
    token = csrf_from(c, f"/staff/submissions/{sid}")
    override = f"/staff/submissions/{sid}/override"
    refused = {"empty": {}, "negative": {"score": "-1", "reason": "手误"}, "no reason": {"score": "5"},
               "not a number": {"score": "abc", "reason": "手误"}, "infinite": {"score": "inf", "reason": "手误"},
               "above the maximum": {"score": "1000", "reason": "手误"}}
    for label, data in refused.items():
        walk.check(f"override {label}", c.post(override, data={"csrf_token": token, **data}), 400)
    walk.check("override not graded", c.post(f"/staff/submissions/{queued}/override",
                                             data={"csrf_token": token, "score": "1", "reason": "手误"}), 400)
    walk.check("override", c.post(override, data={"csrf_token": token, "score": "50", "reason": "手误"},
                                  follow_redirects=True))
    walk.check("clear, no reason", c.post(f"{override}/clear", data={"csrf_token": token}), 400)
    walk.check("clear", c.post(f"{override}/clear", data={"csrf_token": token, "reason": "撤回"},
                               follow_redirects=True))
    walk.check("regrade one", c.post(f"/staff/submissions/{sid}/regrade", data={"csrf_token": token},
                                     follow_redirects=True))
    for which in ("failed", "all"):
        walk.check(f"regrade {which}", c.post(f"{base}/regrade", data={"csrf_token": token, "which": which},
                                              follow_redirects=True))
    student = f"{base}/students/{user_id(app, 'alice')}"
    walk.check("student", c.get(student))
    for label, data in {"empty": {}, "not a date": {"deadline": "soon", "reason": "病假"},
                        "out of range": {"deadline": "1990-01-01T00:00", "reason": "病假"},
                        "no reason": {"deadline": "2030-01-01T00:00"}}.items():
        walk.check(f"extension {label}", c.post(f"{student}/extension", data={"csrf_token": token, **data}), 400)
    walk.check("extension", c.post(f"{student}/extension", data={"csrf_token": token, "deadline": "2030-01-01T00:00",
                                                                  "reason": "病假"}, follow_redirects=True))
    walk.check("extended", c.get(f"{base}?show=extended"))
    walk.check("withdraw, no reason", c.post(f"{student}/extension/revoke", data={"csrf_token": token}), 400)
    walk.check("withdraw", c.post(f"{student}/extension/revoke", data={"csrf_token": token, "reason": "撤回"},
                                  follow_redirects=True))
    walk.check("audit log", c.get(f"{base}/audit"))  # every action above, with its details
    walk.check("submission after", c.get(f"/staff/submissions/{sid}"))
    walk.assert_chinese()


# ---------------------------------------------------------------------------------------------
# the instructor


def test_the_instructor_pages_are_chinese_the_spec_errors_too(app):
    walk, c = Walk(app), client_of(app, "ivan")
    spec = (ASSIGNMENTS / QUADRATIC / "assignment.yaml").read_text()
    walk.check("manage", c.get("/staff/manage"))
    token = csrf_from(c, "/staff/manage")

    def upload_spec(**data):
        return c.post("/staff/manage", data={"csrf_token": token, **data}, content_type="multipart/form-data")

    broken = walk.check("broken spec", upload_spec(text="id: new-one\ntitle: 3\n"), 400)
    assert "必填，但缺失" in broken and "required but missing" not in broken  # each by line and field
    walk.check("nothing", upload_spec(), 400)
    walk.check("both", upload_spec(text="id: x", spec=(io.BytesIO(b"id: x"), "assignment.yaml")), 400)
    walk.check("not UTF-8", upload_spec(spec=(io.BytesIO(b"\xff\xfe"), "assignment.yaml")), 400)
    walk.check("too large", upload_spec(spec=(io.BytesIO(b"#" * 210 * 1024), "assignment.yaml")), 400)
    walk.check("bad mistake name", upload_spec(text="id: x", mistakes=[(io.BytesIO(b"x"), "错误 示例!.py")]), 400)
    walk.check("over the request limit", upload_spec(spec=(io.BytesIO(b"#" * 400 * 1024), "assignment.yaml")), 413)
    new = spec.replace(f"id: {QUADRATIC}", "id: brand-new")
    walk.check("created", c.post("/staff/manage", data={"csrf_token": token, "text": new},
                                 content_type="multipart/form-data", follow_redirects=True))
    walk.check("unchanged", c.post("/staff/manage", data={"csrf_token": token, "text": new},
                                   content_type="multipart/form-data", follow_redirects=True))
    edit = f"/staff/manage/{QUADRATIC}"
    walk.check("edit", c.get(edit))
    walk.check("empty spec", c.post(edit, data={"csrf_token": token, "text": ""}), 400)
    walk.check("another id", c.post(edit, data={"csrf_token": token, "text": new}), 400)
    walk.check("draft", c.post(edit, data={"csrf_token": token, "text": spec.replace("epochs: 100", "epochs: 101")},
                               follow_redirects=True))
    walk.check("dry run", c.post(f"{edit}/dry-run", data={"csrf_token": token}, follow_redirects=True))
    walk.check("apply", c.post(f"{edit}/apply", data={"csrf_token": token}, follow_redirects=True))
    walk.check("unpublish", c.post(f"{edit}/unpublish", data={"csrf_token": token}, follow_redirects=True))
    walk.check("publish", c.post(f"{edit}/publish", data={"csrf_token": token}, follow_redirects=True))
    c.post(edit, data={"csrf_token": token, "text": spec.replace("epochs: 100", "epochs: 102")})
    walk.check("discard", c.post(f"{edit}/discard", data={"csrf_token": token}, follow_redirects=True))
    walk.check("dry run 404", c.get(f"{edit}/dry-runs/999"), 404)
    walk.check("audit log", c.get(f"/staff/assignments/{QUADRATIC}/audit"))
    walk.assert_chinese()


def _dry_run(app, status: str, result: dict, age: dt.timedelta = dt.timedelta(0)) -> int:
    with db_of(app).session() as session:
        run = DryRun(assignment_id=QUADRATIC, spec_yaml="x", spec_hash="0" * 64, files={}, status=status,
                     result=result, requested_by=user_id(app, "ivan"), created_at=utcnow() - age,
                     finished_at=utcnow() if status in ("done", "failed") else None)
        session.add(run)
        session.flush()
        return run.id


def test_a_dry_run_s_problems_are_said_in_chinese(app):
    """As worker/tasks.py stores them (grader.selfcheck's FileCheck): each file's problem from its fields."""
    trace = {"step": 2, "epoch": 1, "sample": 2, "param": "w1", "expected": 22.88, "got": 24.88, "matched": 1,
             "steps": 300}
    files = [
        FileCheck("solution.py", "solution", False, 40.1, 100.0,
                  problem=said("selfcheck.solution_not_full", score=40.1, max=100.0),
                  failing=[{"id": "trace", "code": "trace.first_divergence", "params": trace}]),
        FileCheck("mistakes/no_zero_grad.py", "mistake", False, 40.0, 100.0, "mistake.no_zero_grad",
                  ["mistake.full_batch"],
                  problem=said("selfcheck.mistake_not_caught", code="mistake.no_zero_grad", found="mistake.full_batch")),
        FileCheck("mistakes/none.py", "mistake", False, 40.0, 100.0, "mistake.no_zero_grad", [],
                  problem=said("selfcheck.mistake_not_caught", code="mistake.no_zero_grad",
                               found=said("selfcheck.no_diagnosis"))),
        FileCheck("mistakes/plain.py", "mistake", False, problem=said("selfcheck.no_expect_line")),
        FileCheck("mistakes/perfect.py", "mistake", False, 100.0, 100.0, "mistake.no_backward",
                  problem=said("selfcheck.mistake_full_marks", code="mistake.no_backward")),
        FileCheck("mistakes/caught.py", "mistake", True, 40.0, 100.0, "mistake.no_zero_grad", ["mistake.no_zero_grad"]),
    ]
    done = _dry_run(app, "done", {"ok": False, "problems": [], "files": [f.as_dict() for f in files]})
    sandbox = _dry_run(app, "failed", {"ok": False, "files": [], "problems": [
        said("dry_run.sandbox_failed", error="OSError: gone")]})
    queue = _dry_run(app, "failed", {"ok": False, "files": [], "problems": [said("dry_run.queue_unavailable")]})
    spec_problems = [SpecProblem("assignment x", 12, "training.lr", said("spec.expected_number", got="'fast'")),
                     SpecProblem("assignment x", 4, "data", said("spec.samples_differ", x=3, y=2))]
    broken = _dry_run(app, "done", {"ok": False, "files": [], "problems": [],
                                    "spec_problems": [p.as_dict() for p in spec_problems]})
    walk, c = Walk(app, data=("OSError: gone", "'fast'")), client_of(app, "ivan")  # an exception's text, a value
    fragment = walk.check("done", c.get(f"/staff/manage/{QUADRATIC}/dry-runs/{done}"))
    assert "第一处差异在第 2 步" in html.unescape(fragment)  # the solution's failed check, in words
    walk.check("sandbox failed", c.get(f"/staff/manage/{QUADRATIC}/dry-runs/{sandbox}"))
    walk.check("queue unavailable", c.get(f"/staff/manage/{QUADRATIC}/dry-runs/{queue}"))
    assert "应为数字" in html.unescape(walk.check("broken spec", c.get(f"/staff/manage/{QUADRATIC}/dry-runs/{broken}")))
    from grader.service.reaper import end_lost_dry_runs

    lost = _dry_run(app, "running", {}, age=dt.timedelta(days=1))
    assert end_lost_dry_runs(db_of(app), app.config["GRADER"], utcnow()) == [lost]
    walk.check("lost", c.get(f"/staff/manage/{QUADRATIC}/dry-runs/{lost}"))
    walk.check("edit page", c.get(f"/staff/manage/{QUADRATIC}"))
    walk.assert_chinese()


# ---------------------------------------------------------------------------------------------
# words our own code stores in feedback parameters


HARNESS_REASONS = [said("harness.no_param", name="w"), said("harness.param_not_tensor", name="w", type="float"),
                   said("harness.param_not_leaf", name="w"), said("harness.param_no_grad", name="w")]


@pytest.mark.parametrize("code, params", [
    ("gradients.unavailable", {"reason": said("reason.not_run")}),
    *[("gradients.unavailable", {"reason": r}) for r in HARNESS_REASONS],
    *[("runs.killed", {"signal": s, "reason": said(r)}) for s, r in [*SIGNAL_REASONS.items(), (1, OTHER_SIGNAL)]],
    ("runs.bad_outcome", {"reason": said("outcome.over_limit")}),
    ("runs.bad_outcome", {"reason": said("outcome.not_json", type="ValueError")}),
    ("runs.exception", {"type": "EOFError", "line": 4, "message": said("harness.no_keyboard")}),
    ("gradients.probe_error", {"error": said("reason.no_result")}),
    ("function.error", {"function": "grad_w", "error": said("reason.no_result")}),
    ("predictions.error", {"x": 4.0, "error": said("reason.no_prediction")}),
    ("accuracy.error", {"error": said("reason.no_predictions")}),
    ("accuracy.error", {"error": said("reason.non_finite_outputs")}),
    ("accuracy.error", {"error": said("reason.output_shape", shape=[3, 2], n=4)}),
    ("mistake.not_tensor_param", {"param": "w", "type": "number"}),
    ("function.mismatch", {"matched": 2, "probes": 3, "at": {"w": said("value.samples", n=100)}, "function": "grad_w",
                           "args": [said("value.samples", n=100), 2.0], "expected": 1.0, "returns": "gradient",
                           "param": "w", "got": 2.0}),
])
def test_what_our_code_writes_into_a_message_is_shown_in_chinese(code, params):
    chinese = render(code, params, "zh", strict=True)
    assert english_words(chinese, ["ValueError", "EOFError", "float"]) == [], chinese  # Python's names stay
    assert render(code, params, "en", strict=True) != chinese


def test_a_student_s_own_error_text_is_shown_as_it_is():
    """Only codes are translated: text in a parameter is the student's (an exception), never read back."""
    shown = render("gradients.probe_error", {"error": "TypeError: the reason given for this"}, "zh")
    assert "TypeError: the reason given for this" in shown and shown != render(
        "gradients.probe_error", {"error": "TypeError: the reason given for this"}, "en")


def test_the_command_line_s_own_lines_are_chinese(tmp_path, monkeypatch):
    from grader.cli_submit import SubmitProblem, report, settings

    for status in ("queued", "running", "failed"):
        text = report({"id": 3, "filename": "hw.py", "assignment": QUADRATIC, "status": status}, lang="zh")
        assert english_words(text) == [], text
    for name in ("GRADER_SERVER", "GRADER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRADER_CONFIG", str(tmp_path / "none.toml"))
    with pytest.raises(SubmitProblem) as refused:
        settings(None, None, "zh")
    assert english_words(refused.value.message, ['server = "..."', "URL"]) == [], refused.value.message
