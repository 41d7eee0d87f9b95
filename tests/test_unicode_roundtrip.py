"""Student text round-trips unchanged: a homework with Chinese comments and prints, uploaded as
作业1_反向传播.py by 张三, graded by a real worker, reads back exactly in every view — the student's
submission page (and its live-update fragment), source view and history; the staff submission, student and
assignment pages; the JSON API; both CSV gradebooks; and `grader grade` on the same file.

Pages are parsed and their text content compared (entities decoded), so escaping can neither hide nor fake
a match. The assertions are on the student's data, never on UI words, which change with the language."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.models import Submission
from grader.service import accounts
from grader.submissions import script_name
from service_helpers import ROOT, Pipeline, RedisServer
from web_helpers import PASSWORD, login, upload
from worker.sandbox.outputs import CappedBuffer

pytestmark = pytest.mark.slow
QUAD = "backprop-quadratic"
FILENAME = "作业1_反向传播.py"
STUDENT, NAME = "zhangsan", "张三"
GRADER = str(Path(sys.executable).with_name("grader"))

# The reference solution of backprop-quadratic, commented and printing in Chinese; `<`, `&` and quotes
# would be lost or doubled by a wrong escape, the emoji is outside the BMP (four bytes in UTF-8).
SOURCE = '''\
# 作业一：反向传播（二次模型 y = w1·x² + w2·x + b）
import torch

x_data = [1.0, 2.0, 3.0]  # 输入
y_data = [2.0, 4.0, 6.0]  # 标签

w1 = torch.Tensor([1.0])
w1.requires_grad = True
w2 = torch.Tensor([1.0])
w2.requires_grad = True
b = torch.Tensor([1.0])
b.requires_grad = True


def forward(x):
    """前向传播"""
    return w1 * x**2 + w2 * x + b


def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) ** 2  # 平方误差 <不取平均> & "逐个样本"


print("训练前预测:", 4, forward(4).item())
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()  # 反向传播，计算梯度
        w1.data = w1.data - 0.01 * w1.grad.data
        w2.data = w2.data - 0.01 * w2.grad.data
        b.data = b.data - 0.01 * b.grad.data
        w1.grad.data.zero_()  # 梯度清零
        w2.grad.data.zero_()
        b.grad.data.zero_()
    print(f"第{epoch}轮 损失:", l.item())
print("训练后预测:", 4, forward(4).item())
print("训练完成 🎉 <收敛> & '好'")
'''
ERROR_TEXT = "学习率太大了：请调小 <lr> & “重试”"
FAILING_SOURCE = SOURCE + f"raise ValueError({ERROR_TEXT!r})\n"


def check_stdout(stdout: str) -> None:
    """What SOURCE prints: the Chinese lines whole, in order, one per epoch."""
    lines = stdout.split("\n")
    assert re.fullmatch(r"训练前预测: 4 21\.0", lines[0]), lines[0]
    epochs = [re.fullmatch(r"第(\d+)轮 损失: \S+", line) for line in lines[1:101]]
    assert all(epochs) and [int(m.group(1)) for m in epochs] == list(range(100)), lines[1:101]
    assert re.fullmatch(r"训练后预测: 4 \S+", lines[101]), lines[101]
    assert lines[102:] == ["训练完成 🎉 <收敛> & '好'", ""]


# ---------------------------------------------------------------------------------------------
# Reading pages as a browser shows them


@dataclass
class Element:
    tag: str
    attrs: dict
    parents: tuple
    parts: list = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def has_class(self, name: str) -> bool:
        return name in (self.attrs.get("class") or "").split()


class Page(HTMLParser):
    """Every element of a page with its attributes and its text content (entities decoded), in order."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), tuple(self._open))
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.elements.append(Element(tag, dict(attrs), tuple(self._open)))

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):  # tolerates an unclosed <p> or <li>
            if self._open[i].tag == tag:
                del self._open[i:]
                break

    def handle_data(self, data):
        for element in self._open:
            element.parts.append(data)

    def find(self, tag: str, cls: str | None = None, within: Element | None = None, **attrs) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and (cls is None or e.has_class(cls))
                and all(e.attrs.get(k) == v for k, v in attrs.items())
                and (within is None or any(p is within for p in e.parents))]

    def one(self, tag: str, cls: str | None = None, **attrs) -> Element:
        found = self.find(tag, cls, **attrs)
        assert len(found) == 1, f"{len(found)} <{tag} class={cls} {attrs}> on the page"
        return found[0]

    @property
    def title(self) -> str:
        return self.one("title").text

    def source_lines(self) -> str:
        """The numbered source listing, joined back into one text."""
        table = self.one("table", "source")
        return "\n".join(pre.text for pre in self.find("pre", within=table))


def page(client, path: str) -> Page:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    assert response.mimetype == "text/html" and response.mimetype_params.get("charset", "").lower() == "utf-8"
    return Page(response.get_data(as_text=True))


def csv_rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8")[1:])))


# ---------------------------------------------------------------------------------------------
# One site with a real worker, Redis and database: 张三 uploads on the page, and through the API


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from grader.web import create_app

    folder = tmp_path_factory.mktemp("unicode")
    redis = RedisServer().start()
    url = f"sqlite:///{folder / 'grader.db'}"
    pipe = app = None
    try:
        pipe = Pipeline(url, redis, folder)
        with pipe.db.session() as session:
            user = accounts.create_user(session, STUDENT, "student", PASSWORD, display_name=NAME)
            accounts.create_user(session, "tina", "ta", PASSWORD, display_name="Tina TA")
            session.flush()
            student_id = user.id
            token = accounts.issue_token(session, STUDENT)
        app = create_app({"database_url": url, "broker_url": redis.url, "ratelimit_storage_url": "memory://",
                          "secret_key": "u" * 40, "submit_interval_seconds": 0})
        pipe.worker()

        student = app.test_client()
        assert login(student, STUDENT).status_code == 302
        posted = upload(student, QUAD, content=SOURCE.encode("utf-8"), filename=FILENAME)
        assert posted.status_code == 302, posted.get_data(as_text=True)[:1000]
        page_id = int(posted.headers["Location"].rsplit("/", 1)[-1])

        api = app.test_client()
        bearer = {"Authorization": f"Bearer {token}"}
        answer = api.post("/api/submissions", headers=bearer, content_type="multipart/form-data",
                          data={"assignment": QUAD, "file": (io.BytesIO(FAILING_SOURCE.encode("utf-8")), FILENAME)})
        assert answer.status_code == 202, answer.get_data(as_text=True)
        api_id = answer.json["id"]

        pipe.wait_graded([page_id, api_id], timeout=120)
        with pipe.db.session() as session:
            row = session.get(Submission, page_id)
            stdout = row.stdout_excerpt
            assert (row.status, row.score) == ("graded", 100.0), (row.status, row.score, row.error)
        staff = app.test_client()
        assert login(staff, "tina").status_code == 302
        yield SimpleNamespace(app=app, pipe=pipe, student=student, staff=staff, api=api, bearer=bearer,
                              page_id=page_id, api_id=api_id, student_id=student_id, stdout=stdout)
    finally:
        if app is not None:
            app.extensions["grader.db"].dispose()
        if pipe is not None:
            pipe.close()
        redis.close()


def test_the_upload_is_stored_as_sent_and_the_worker_keeps_the_chinese_output(site):
    with site.pipe.db.session() as session:
        for sid, source in ((site.page_id, SOURCE), (site.api_id, FAILING_SOURCE)):
            row = session.get(Submission, sid)
            assert (row.filename, row.source, row.user.display_name) == (FILENAME, source, NAME)
    check_stdout(site.stdout)


def test_the_students_submission_page_shows_name_file_and_output_intact(site):
    shown = page(site.student, f"/submissions/{site.page_id}")
    assert shown.one("span", "filename").text == FILENAME
    assert shown.one("span", "who").text.split()[0] == NAME
    assert shown.one("pre", "stdout").text == site.stdout
    # the fragment the page swaps in when grading finishes, polled as JSON
    live = site.student.get(f"/submissions/{site.page_id}/status").json
    assert Page(live["html"]).one("pre", "stdout").text == site.stdout


def test_a_chinese_exception_message_reaches_the_page(site):
    shown = page(site.student, f"/submissions/{site.api_id}")
    assert shown.one("span", "filename").text == FILENAME
    runs = shown.one("tr", "check", **{"data-check": "runs"})
    assert ERROR_TEXT in runs.text
    check_stdout(shown.one("pre", "stdout").text)


def test_the_source_view_gives_back_every_line(site):
    shown = page(site.student, f"/submissions/{site.page_id}/source")
    assert shown.one("h1", "filename").text == FILENAME
    assert FILENAME in shown.title
    assert shown.source_lines() == SOURCE


def test_the_history_and_the_assignment_page_list_the_file_by_its_name(site):
    shown = page(site.student, f"/assignments/{QUAD}/history")
    for sid in (site.page_id, site.api_id):
        cells = [td.text for td in shown.find("td", within=shown.one("tr", **{"data-submission": str(sid)}))]
        assert FILENAME in cells
    shown = page(site.student, f"/assignments/{QUAD}")
    links = {a.attrs["href"]: a.text for a in shown.find("a")}
    assert links[f"/submissions/{site.page_id}"] == f"#{site.page_id} {FILENAME}"


def test_the_staff_submission_page_shows_student_file_output_and_source(site):
    shown = page(site.staff, f"/staff/submissions/{site.page_id}")
    assert shown.one("span", "filename").text == FILENAME
    student_link = f"/staff/assignments/{QUAD}/students/{site.student_id}"
    assert [a.text for a in shown.find("a", href=student_link)] == [NAME]
    assert any(dd.text.startswith(f"{NAME} ({STUDENT})") for dd in shown.find("dd"))
    assert shown.one("pre", "stdout").text == site.stdout
    assert shown.source_lines() == SOURCE


def test_the_staff_student_page_shows_the_name_and_the_files(site):
    shown = page(site.staff, f"/staff/assignments/{QUAD}/students/{site.student_id}")
    assert shown.one("h1").text.split()[0] == NAME
    assert shown.title.startswith(NAME)
    cells = [td.text for td in shown.find("td")]
    assert cells.count(FILENAME) == 2


def test_the_staff_dashboard_lists_the_student_by_name(site):
    shown = page(site.staff, f"/staff/assignments/{QUAD}")
    row = shown.one("tr", **{"data-student": STUDENT})
    link = f"/staff/assignments/{QUAD}/students/{site.student_id}"
    assert [a.text for a in shown.find("a", within=row, href=link)] == [NAME]


def test_the_api_returns_file_name_output_and_error_unchanged(site):
    mine = site.api.get(f"/api/submissions/{site.page_id}", headers=site.bearer)
    assert mine.status_code == 200 and mine.mimetype == "application/json"
    body = json.loads(mine.get_data())  # the raw bytes, as a client would read them
    assert (body["filename"], body["stdout"]) == (FILENAME, site.stdout)
    # before the deadline the after_deadline check's points are not shown (grader.visibility)
    assert (body["score"], body["points_not_shown"]) == (85.0, 15.0)
    failing = site.api.get(f"/api/submissions/{site.api_id}", headers=site.bearer).json
    assert failing["filename"] == FILENAME
    check_stdout(failing["stdout"])
    assert any(ERROR_TEXT in c.get("message", "") for c in failing["checks"]), failing["checks"]


def test_both_csv_gradebooks_carry_the_chinese_name(site):
    for path in (f"/staff/assignments/{QUAD}/gradebook.csv", "/staff/gradebook.csv"):
        response = site.staff.get(path)
        assert response.headers["Content-Disposition"].isascii()  # assignment ids and dates only
        rows = {r["username"]: r for r in csv_rows(response)}
        assert rows[STUDENT]["display_name"] == NAME
        assert "filename" not in rows[STUDENT]  # neither export lists files; if one ever does, assert it here
    by_assignment = {r["username"]: r for r in csv_rows(site.staff.get(f"/staff/assignments/{QUAD}/gradebook.csv"))}
    assert by_assignment[STUDENT]["best_score"] == "100"


def test_grader_grade_prints_the_same_chinese_output_for_a_chinese_file_name(site, tmp_path):
    script = tmp_path / FILENAME
    script.write_text(SOURCE, encoding="utf-8")
    proc = subprocess.run([GRADER, "grade", str(script), "--assignment", QUAD, "--json"], cwd=ROOT,
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    out = json.loads(proc.stdout.decode("utf-8"))
    assert out["path"] == str(script) and out["score"] == 100
    assert out["stdout"] == site.stdout  # the same run as the worker's, byte for byte
    text = subprocess.run([GRADER, "grade", str(script), "--assignment", QUAD], cwd=ROOT, capture_output=True,
                          timeout=300)
    assert text.returncode == 0 and text.stdout.decode("utf-8").split("\n")[0].startswith(f"{script} — ")


# ---------------------------------------------------------------------------------------------
# Where bytes are cut or named: output caps and the sandbox's file name


def test_output_cut_at_the_cap_never_ends_in_a_broken_character():
    text = "损失" * 1000  # three bytes each: a cap of 100 bytes falls inside the 34th character
    buffer = CappedBuffer(cap=100)
    buffer.feed(text.encode("utf-8"))
    assert buffer.truncated and buffer.text() == text[:33]
    whole = CappedBuffer(cap=10_000)
    whole.feed("好".encode("utf-8") + b"\xff")
    assert whole.text() == "好\ufffd"  # bytes that are not UTF-8 still show, as U+FFFD


def test_grader_grade_keeps_a_flood_of_chinese_output_whole_up_to_the_cap(tmp_path):
    script = tmp_path / "刷屏.py"
    script.write_text(SOURCE + "print('梯' * 200_000)\n", encoding="utf-8")  # 600 KB, past the 256 KB cap
    proc = subprocess.run([GRADER, "grade", str(script), "--assignment", QUAD, "--json"], cwd=ROOT,
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    stdout = json.loads(proc.stdout.decode("utf-8"))["stdout"]
    assert "\ufffd" not in stdout
    assert stdout.rstrip("梯").endswith("'好'\n") and len(stdout.encode("utf-8")) > 250 * 1024


@pytest.mark.parametrize("name", [FILENAME, "反" * 84 + ".py", "反" * 90 + ".py", "日本語のファイル.py"],
                         ids=["homework", "255-bytes", "273-bytes", "japanese"])
def test_the_sandbox_name_is_the_students_name_or_one_the_sandbox_can_write(name):
    safe = script_name(name)
    assert safe in (name, "submission.py")
    assert len(safe.encode("utf-8")) <= 255  # Linux's NAME_MAX counts bytes
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / safe).write_text(SOURCE, encoding="utf-8")
    if len(name.encode("utf-8")) <= 255:
        assert safe == name
