"""The instructor's assignment management: upload with problems shown by line and field, drafts of published
specs, the dry run sent to a worker by name and polled, publish / unpublish, a version bump and a regrade offer."""
from __future__ import annotations

import io
import re

import sqlalchemy as sa

from grader.messages import said
from grader.models import Assignment, AssignmentFile, AuditEntry, DryRun, utcnow
from service_helpers import ASSIGNMENTS
from web_helpers import add_graded, client_as, csrf_from, db_of

LINEAR = (ASSIGNMENTS / "backprop-linear" / "assignment.yaml").read_text()
NEW = LINEAR.replace("id: backprop-linear", "id: linear-copy").replace('title: "', 'title: "Copy: ')
SOLUTION = (ASSIGNMENTS / "backprop-linear" / "solution.py").read_text()


def upload(c, text: str | None = None, *, file: bytes | None = None, solution: str | None = None,
           mistakes: dict[str, str] | None = None):
    data = {"csrf_token": csrf_from(c, "/staff/manage")}
    if text is not None:
        data["text"] = text
    if file is not None:
        data["spec"] = (io.BytesIO(file), "assignment.yaml")
    if solution is not None:
        data["solution"] = (io.BytesIO(solution.encode()), "solution.py")
    if mistakes:
        data["mistakes"] = [(io.BytesIO(src.encode()), name) for name, src in mistakes.items()]
    return c.post("/staff/manage", data=data, content_type="multipart/form-data")


def test_a_broken_spec_is_refused_with_each_problem_by_line_and_field(app):
    c = client_as(app, "ivan")
    broken = NEW.replace("lr: 0.01", "lr: fast")
    line = next(i for i, l in enumerate(broken.split("\n"), 1) if "lr: fast" in l)
    response = upload(c, file=broken.encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    row = re.search(r'<tr class="problem" data-line="(\d+)" data-field="([^"]+)">', page)
    assert row and int(row.group(1)) == line and row.group(2) == "training.lr"
    assert f'<tr id="S{line}" class="bad">' in page  # the source, that line marked
    with db_of(app).session() as session:
        assert session.get(Assignment, "linear-copy") is None


def test_yaml_syntax_errors_and_hostile_text_are_messages_not_500s(app):
    c = client_as(app, "ivan")
    for text in ["id: [unclosed", "!!python/object:os.system x", "- a\n- b", "id: <script>alert(1)</script>\n",
                 "a: &x [*x]", "\x00", "é" * 10]:
        response = upload(c, text)
        assert response.status_code == 400, text
        assert "<script>alert" not in response.get_data(as_text=True)
    assert upload(c, file=b"\xff\xfe").status_code == 400
    assert "not both" in upload(c, "id: x", file=b"id: y").get_data(as_text=True)
    assert upload(c, "").status_code == 400
    bad_name = upload(c, NEW, mistakes={"../evil.py": "# expect: mistake.x\n"})
    assert bad_name.status_code in (302, 400)  # the browser sends only the base name; ours checks it too


def test_a_new_spec_is_saved_unpublished_with_its_files_then_published(app):
    c = client_as(app, "ivan")
    response = upload(c, NEW, solution=SOLUTION, mistakes={"lr.py": "# expect: mistake.wrong_lr\nprint(1)\n"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/manage/linear-copy")
    with db_of(app).session() as session:
        a = session.get(Assignment, "linear-copy")
        assert (a.published, a.version, a.draft_yaml) == (False, 1, None)
        files = {f.name for f in session.scalars(sa.select(AssignmentFile))}
        assert files == {"solution.py", "mistakes/lr.py"}
    # students cannot see it yet
    assert client_as(app, "alice").get("/assignments/linear-copy").status_code == 404
    token = csrf_from(c, "/staff/manage/linear-copy")
    c.post("/staff/manage/linear-copy/publish", data={"csrf_token": token})
    assert client_as(app, "alice").get("/assignments/linear-copy").status_code == 200
    c.post("/staff/manage/linear-copy/unpublish", data={"csrf_token": token})
    assert client_as(app, "alice").get("/assignments/linear-copy").status_code == 404
    with db_of(app).session() as session:
        actions = [e.action for e in session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["spec_saved", "published", "unpublished"]


def test_editing_a_published_spec_makes_a_draft_then_a_new_version_and_offers_a_regrade(app):
    add_graded(app, "alice", assignment="backprop-linear")
    c = client_as(app, "ivan")
    token = csrf_from(c, "/staff/manage/backprop-linear")
    changed = LINEAR.replace("epochs: 100", "epochs: 90")
    assert changed != LINEAR
    response = c.post("/staff/manage/backprop-linear", data={"csrf_token": token, "text": changed})
    assert response.status_code == 302
    with db_of(app).session() as session:
        a = session.get(Assignment, "backprop-linear")
        assert (a.version, a.draft_yaml == changed, a.spec_yaml == LINEAR) == (1, True, True)
    page = c.get("/staff/manage/backprop-linear").get_data(as_text=True)
    assert 'id="draft-badge"' in page and "Publish the changes (version 2)" in page
    c.post("/staff/manage/backprop-linear/apply", data={"csrf_token": token})
    with db_of(app).session() as session:
        a = session.get(Assignment, "backprop-linear")
        assert (a.version, a.draft_yaml, a.spec_yaml == changed) == (2, None, True)
    page = c.get("/staff/manage/backprop-linear").get_data(as_text=True)
    assert 'id="regrade-offer"' in page and "1 submission was graded under an earlier version" in page
    c.post("/staff/assignments/backprop-linear/regrade", data={"csrf_token": token, "which": "all"})
    assert len(app.extensions["grader.sender"].sent) == 1


def test_editing_refuses_a_different_id_and_shows_problems_in_place(app):
    c = client_as(app, "ivan")
    token = csrf_from(c, "/staff/manage/backprop-linear")
    response = c.post("/staff/manage/backprop-linear", data={"csrf_token": token, "text": NEW})
    assert response.status_code == 400 and 'data-field="id"' in response.get_data(as_text=True)
    response = c.post("/staff/manage/backprop-linear",
                      data={"csrf_token": token, "text": LINEAR.replace("epochs: 100", "epochs: -1")})
    assert response.status_code == 400 and 'data-field="training.epochs"' in response.get_data(as_text=True)


def test_the_dry_run_is_sent_to_a_worker_by_name_and_its_result_polled(app):
    c = client_as(app, "ivan")
    token = csrf_from(c, "/staff/manage/backprop-quadratic")
    c.post("/staff/manage/backprop-quadratic/dry-run", data={"csrf_token": token})
    sender = app.extensions["grader.sender"]
    assert sender.tasks[0][0] == "grader.dry_run"
    run_id = sender.tasks[0][1][0]
    with db_of(app).session() as session:
        run = session.get(DryRun, run_id)
        # no files were uploaded: those in the assignments folder are used
        assert "solution.py" in run.files and any(n.startswith("mistakes/") for n in run.files)
        assert run.status == "queued"
    status = c.get(f"/staff/manage/backprop-quadratic/dry-runs/{run_id}").json
    assert status == {"id": run_id, "status": "queued", "final": False, "ok": None, "html": None}
    with db_of(app).session() as session:  # as the worker leaves it
        run = session.get(DryRun, run_id)
        run.status, run.finished_at = "done", utcnow()
        run.result = {"ok": False, "problems": [],
                      "files": [{"name": "mistakes/x.py", "kind": "mistake", "ok": False, "score": 40.0,
                                 "max_score": 100.0, "expected": "mistake.a", "got": ["<b>"],
                                 "problem": said("selfcheck.mistake_not_caught", code="mistake.a", found="<none>")}]}
    status = c.get(f"/staff/manage/backprop-quadratic/dry-runs/{run_id}").json
    assert status["final"] and status["ok"] is False
    assert "&lt;none&gt;" in status["html"] and "&lt;b&gt;" in status["html"]
    assert c.get(f"/staff/manage/backprop-linear/dry-runs/{run_id}").status_code == 404
    assert 'id="dry-run-verdict">failed' in c.get("/staff/manage/backprop-quadratic").get_data(as_text=True)


def test_a_dry_run_the_broker_cannot_take_is_marked_failed_with_a_reason(app):
    class Down:
        sent: list = []

        def send(self, _i):
            return False

        def send_task(self, _n, _a):
            return False

    app.extensions["grader.sender"] = Down()
    c = client_as(app, "ivan")
    token = csrf_from(c, "/staff/manage/backprop-quadratic")
    c.post("/staff/manage/backprop-quadratic/dry-run", data={"csrf_token": token})
    with db_of(app).session() as session:
        run = session.scalars(sa.select(DryRun)).one()
        assert run.status == "failed" and run.result["problems"] == [said("dry_run.queue_unavailable")]


def test_uploads_over_the_size_limit_get_a_page_not_a_500(app):
    c = client_as(app, "ivan")
    response = upload(c, "x" * (600 * 1024))
    assert response.status_code == 413 and "larger than" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_a_pasted_spec_over_the_cap_is_told_its_size_as_an_uploaded_file_is(app):
    """One cap for a spec (grader.source_text.MAX_SOURCE_BYTES, 200 KB), pasted or uploaded, on the upload page
    and the edit page: not "the form was incomplete" or "the spec is empty" for a spec pasted too long."""
    c = client_as(app, "ivan")
    big = NEW + "#" + "x" * (205 * 1024) + "\n"  # over the cap, under the request limit
    for response in (upload(c, file=big.encode()), upload(c, big)):
        assert response.status_code == 400 and "assignment.yaml is larger than 200 KB." in \
            response.get_data(as_text=True)
    token = csrf_from(c, "/staff/manage/backprop-linear")
    edited = LINEAR + "#" + "x" * (205 * 1024) + "\n"

    def edit(text: str):  # multipart: a form field's size as it is, not percent-encoded three times over
        return c.post("/staff/manage/backprop-linear", data={"csrf_token": token, "text": text},
                      content_type="multipart/form-data")

    response = edit(edited)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "assignment.yaml is larger than 200 KB." in page
    assert "The spec is empty." not in page
    chinese = LINEAR + "# " + "说" * (70 * 1024) + "\n"  # 70 K characters, 210 KB: the cap counts bytes
    response = edit(chinese)
    assert response.status_code == 400 and "assignment.yaml is larger than 200 KB." in response.get_data(as_text=True)



LECTURE7 = ASSIGNMENTS / "multiple-dimension-input"
LECTURE7_COPY = (LECTURE7 / "assignment.yaml").read_text().replace("id: multiple-dimension-input", "id: lecture7-copy")


def post_manage(c, data: dict, files: dict[str, list[tuple[bytes, str]]] | None = None):
    body = {"csrf_token": csrf_from(c, "/staff/manage"), **data}
    for field, items in (files or {}).items():
        body[field] = [(io.BytesIO(content), name) for content, name in items]
    return c.post("/staff/manage", data=body, content_type="multipart/form-data")


def test_a_spec_uploaded_with_its_gzip_data_file_is_stored_with_the_data_inside(app):
    from grader.spec import parse_spec

    c = client_as(app, "ivan")
    gz = (LECTURE7 / "diabetes.csv.gz").read_bytes()
    without = post_manage(c, {"text": LECTURE7_COPY})
    assert without.status_code == 400 and 'data-field="data.csv"' in without.get_data(as_text=True)
    saved = post_manage(c, {"text": LECTURE7_COPY}, {"data": [(gz, "diabetes.csv.gz")]})
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    with db_of(app).session() as session:
        stored = session.get(Assignment, "lecture7-copy").spec_yaml
    spec = parse_spec(stored)  # no folder needed: the CSV's text is inside the stored spec
    assert spec.data.csv == "diabetes.csv.gz" and len(spec.data.x) > 0
    bad_name = post_manage(c, {"text": LECTURE7_COPY}, {"data": [(b"1,2\n", "notes.txt")]})
    assert bad_name.status_code == 400 and "ending in .csv or .gz" in bad_name.get_data(as_text=True)


def test_a_refused_upload_keeps_the_spec_and_the_files_for_the_next_try(app):
    c = client_as(app, "ivan")
    gz = (LECTURE7 / "diabetes.csv.gz").read_bytes()
    solution = (LECTURE7 / "solution.py").read_bytes()
    broken = LECTURE7_COPY.replace("lr: 0.1,", "lr: fast,")
    refused = post_manage(c, {}, {"spec": [(broken.encode(), "assignment.yaml")], "solution": [(solution, "solution.py")],
                                  "mistakes": [(b"# expect: mistake.no_zero_grad\n", "m1.py")],
                                  "data": [(gz, "diabetes.csv.gz")]})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'data-field="training.lr"' in page
    assert "lr: fast," in re.search(r"<textarea[^>]*name=\"text\"[^>]*>(.*?)</textarea>", page, re.S).group(1)
    kept_line = re.search(r'id="kept-files">(.*?)</p>', page, re.S).group(1)
    assert all(n in kept_line for n in ("solution.py", "mistakes/m1.py", "data/diabetes.csv.gz")), kept_line
    kept = re.search(r'name="kept" type="hidden" value="([^"]*)"', page).group(1)
    # the next try fixes the text box only
    fixed = post_manage(c, {"text": LECTURE7_COPY, "kept": kept})
    assert fixed.status_code == 302, fixed.get_data(as_text=True)[:3000]
    with db_of(app).session() as session:
        names = set(session.scalars(sa.select(AssignmentFile.name).where(AssignmentFile.assignment_id == "lecture7-copy")))
    assert names == {"solution.py", "mistakes/m1.py"}
    # a mangled `kept` is nothing kept, never a 500
    assert post_manage(c, {"text": "id: [", "kept": "%%%not-base64"}).status_code == 400
