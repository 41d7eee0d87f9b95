"""A notebook through the service: the upload form and the API accept it, it is stored as uploaded beside its code,
staff download either, and the grade task runs the notebook and keeps each cell's output."""
from __future__ import annotations

import io
import json

import pytest
from markupsafe import escape

from grader.db import Database, upgrade
from grader.models import Submission, User
from grader.notebook import NOTEBOOK_MAX_BYTES
from grader.service import accounts, catalog
from grader.submissions import SubmissionError, accept, store
from notebook_files import PNG, colab_notebook, jupyterlab_notebook, script_cells
from service_helpers import ASSIGNMENTS
from web_helpers import client_as, csrf_from, db_of

SOLUTION = (ASSIGNMENTS / "backprop-quadratic" / "solution.py").read_text()
CELLS = script_cells(SOLUTION)


def rows(app) -> list[Submission]:
    with db_of(app).session() as session:
        return list(session.query(Submission).order_by(Submission.id))


def post_form(client, content: bytes, filename: str):
    token = csrf_from(client, "/assignments/backprop-quadratic")
    return client.post("/assignments/backprop-quadratic", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(content), filename)})


def with_plots(text: str, size: int) -> str:
    """The notebook with a large PNG output in its first code cell, as a notebook full of plots has."""
    notebook = json.loads(text)
    cell = next(c for c in notebook["cells"] if c["cell_type"] == "code")
    cell["outputs"].append({"output_type": "display_data", "metadata": {},
                            "data": {"image/png": PNG[:-2] + "A" * size + "==", "text/plain": ["<Figure>"]}})
    return json.dumps(notebook)


def test_the_upload_form_stores_a_notebook_as_uploaded_beside_its_code(app):
    client = client_as(app, "alice")
    text = jupyterlab_notebook(CELLS)
    response = post_form(client, text.encode(), "作业.ipynb")
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    [row] = rows(app)
    assert row.notebook == text and row.filename == "作业.ipynb" and row.status == "queued"
    assert row.source == accept(text.encode(), "hw.ipynb").source and row.source.startswith("# %% cell 3\n")
    assert app.extensions["grader.sender"].sent == [row.id]


def test_a_notebook_full_of_plots_is_accepted_and_stored_without_its_outputs(app):
    client = client_as(app, "alice")
    text = with_plots(colab_notebook(CELLS), 600_000)  # far above the 200 KB script cap
    assert post_form(client, text.encode(), "hw.ipynb").status_code == 302
    [row] = rows(app)
    assert len(row.notebook) < 200 * 1024 and "image/png" not in row.notebook
    assert json.loads(row.notebook)["cells"][1]["source"] == json.loads(text)["cells"][1]["source"]


def test_a_broken_notebook_is_refused_on_the_form_with_a_sentence(app):
    client = client_as(app, "alice")
    response = post_form(client, b'{"cells": [', "hw.ipynb")
    assert response.status_code == 400
    assert "its text is not JSON" in response.get_data(as_text=True)
    assert rows(app) == []


def test_the_api_takes_a_notebook_and_refuses_a_bad_one_with_its_sentence(app):
    with db_of(app).session() as session:
        token = accounts.issue_token(session, "alice")
    client, hdrs = app.test_client(), {"Authorization": f"Bearer {token}"}

    def submit(content: bytes, name: str = "hw.ipynb"):
        return client.post("/api/submissions", headers=hdrs, content_type="multipart/form-data",
                           data={"assignment": "backprop-quadratic", "file": (io.BytesIO(content), name)})

    ok = submit(with_plots(jupyterlab_notebook(CELLS), 400_000).encode())
    assert ok.status_code == 202, ok.json
    old = submit(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}).encode())
    assert old.status_code == 400 and "notebook format 3" in old.json["error"]
    huge = submit(colab_notebook(["x = 1\n" * 40_000]).encode())
    assert huge.status_code == 413 and "cell 2 alone holds" in huge.json["error"]
    [row] = rows(app)
    assert row.notebook is not None and row.filename == "hw.ipynb"


def test_staff_download_the_notebook_and_its_code(app):
    text = colab_notebook(CELLS)
    with db_of(app).session() as session:
        upload = accept(text.encode(), "hw.ipynb")
        alice = session.query(User).filter_by(username="alice").one()
        sid = store(session, alice, "backprop-quadratic", upload.source, upload.filename,
                    notebook=upload.notebook).id
    staff = client_as(app, "tina")
    page = staff.get(f"/staff/submissions/{sid}").get_data(as_text=True)
    assert f"/staff/submissions/{sid}/download/notebook" in page
    notebook = staff.get(f"/staff/submissions/{sid}/download/notebook")
    assert notebook.status_code == 200 and notebook.get_data(as_text=True) == text
    assert 'filename=hw.ipynb' in notebook.headers["Content-Disposition"]
    code = staff.get(f"/staff/submissions/{sid}/download/code")
    assert code.get_data(as_text=True) == upload.source and "hw.py" in code.headers["Content-Disposition"]
    student = client_as(app, "alice")
    assert student.get(f"/staff/submissions/{sid}/download/notebook").status_code in (403, 404)


@pytest.fixture
def notebook_task(tmp_path, task_runtime):
    """The grade task's runtime (the session's fork server) on a fresh database holding one notebook submission
    with a runtime error."""
    url = f"sqlite:///{tmp_path / 'grader.db'}"
    upgrade(url)
    db = Database(url)
    # the per-step prints left out: the stored excerpt keeps only the output's first characters
    cells = [c.replace("        print('\\tgrad:',x,y,w1.grad.item(),w2.grad.item(),b.grad.item())\n", "")
             for c in CELLS[:-1]] + [CELLS[-1] + "\nprint(missing_name)"]
    assert "grad:" not in "".join(cells)
    upload = accept(jupyterlab_notebook(cells).encode(), "hw.ipynb")
    with db.session() as session:
        catalog.load_assignments(session, ASSIGNMENTS / "backprop-quadratic")
        student = accounts.create_user(session, "student01")
        submission_id = store(session, student, "backprop-quadratic", upload.source, upload.filename,
                              notebook=upload.notebook).id
    task_runtime(db)
    return db, submission_id, cells


@pytest.mark.slow
def test_the_grade_task_runs_the_stored_notebook_and_keeps_each_cell_s_output(notebook_task):
    from grader.notebook import cell_outputs
    from worker.tasks import grade

    db, submission_id, cells = notebook_task
    assert grade.apply(args=[submission_id]).get() == "graded"
    with db.session() as session:
        s = session.get(Submission, submission_id)
        [runs] = [c for c in s.checks if c.kind == "runs"]
        last = len(cells) + 2  # JupyterLab's notebook starts with a markdown and a raw cell
        assert runs.message_code == "runs.exception_in_cell"
        assert (runs.message_params["cell"], runs.message_params["line"]) == (last, 2)
        outputs = cell_outputs(s.stdout_excerpt, [tuple(p) for p in s.stdout_cells])
        assert sorted(outputs) == [i + 3 for i, c in enumerate(cells) if "print(" in c]
        assert outputs[last].startswith("Predict(after training) 4 8.5441")


def _notebook(cells, **top) -> bytes:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells, **top}).encode()


HOSTILE = {
    # name: (the file's bytes, the status, words of the sentence in English)
    "empty": (b"", 400, "The file is empty."),
    "a script named .ipynb": (b"import torch\nprint(1)\n", 400, "its text is not JSON"),
    "json null": (b"null", 400, "it has no cells"),
    "json string": (b'"cells"', 400, "it has no cells"),
    "cells a dict": (_notebook({"a": 1}), 400, "not a valid Jupyter notebook"),
    "a cell not an object": (_notebook([1, "x"]), 400, "not a valid Jupyter notebook"),
    "an unknown cell type": (_notebook([{"cell_type": "sql", "id": "a", "metadata": {}, "source": "x"}]), 400,
                             "not a valid Jupyter notebook"),
    "source of numbers": (_notebook([{"cell_type": "code", "id": "a", "metadata": {}, "source": [1, 2],
                                      "outputs": [], "execution_count": None}]), 400, "not a valid Jupyter notebook"),
    "no metadata": (json.dumps({"nbformat": 4, "nbformat_minor": 5, "cells": []}).encode(), 400,
                    "not a valid Jupyter notebook"),
    "format as a string": (_notebook([], nbformat="4"), 400, "notebook format ?"),
    "format 5": (_notebook([], nbformat=5), 400, "notebook format 5"),
    "format NaN": (b'{"nbformat": NaN, "cells": []}', 400, "notebook format ?"),
    "minor 99": (_notebook([{"cell_type": "code", "id": "a", "metadata": {}, "source": "x = 1", "outputs": [],
                             "execution_count": None}], nbformat_minor=99), 202, None),
    "no cells at all": (_notebook([]), 400, "no code cells"),
    "only empty code cells": (_notebook([{"cell_type": "code", "id": "a", "metadata": {}, "source": "  \n",
                                          "outputs": [], "execution_count": None}]), 400, "no code cells"),
    "nested a million deep": (b"[" * 1_000_000 + b"]" * 1_000_000, 400, "not JSON"),
    "not UTF-8": (b'{"cells": ["\xff\xfe"]}', 400, "not UTF-8 text"),
    "UTF-16 as Notepad saves it": (("\ufeff" + '{"cells": []}').encode("utf-16-le"), 400, None),
    "a NUL byte": (b'{"cells": [\x00]}', 400, "NUL"),
    "a NUL in the code": (_notebook([{"cell_type": "code", "id": "a", "metadata": {}, "source": "x = '\x00'",
                                      "outputs": [], "execution_count": None}]), 400, "NUL character"),
    "one huge cell": (colab_notebook(["x = 1\n" * 40_000]).encode(), 413, "cell 2 alone holds 234 KB"),
    "over 20 MB": (b" " * (21 * 1024 * 1024), 413, None),
    "150,000 cells": (_notebook([{"cell_type": "markdown", "id": f"m{i}", "metadata": {}, "source": "hi"}
                                 for i in range(150_000)]), 413, "The notebook has 150000 cells"),
    "duplicate cell ids": (_notebook([{"cell_type": "code", "id": "same", "metadata": {}, "source": "x = 1",
                                       "outputs": [], "execution_count": None},
                                      {"cell_type": "code", "id": "same", "metadata": {}, "source": "y = 2",
                                       "outputs": [], "execution_count": None}]), 202, None),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_notebook_gets_a_sentence_in_both_languages_never_a_500(app, name):
    content, status, words = HOSTILE[name]
    with db_of(app).session() as session:
        token = accounts.issue_token(session, "alice")
    for lang in ("en", "zh") if status != 202 else ("en",):  # an accepted one once: one submission per interval
        response = app.test_client().post(
            "/api/submissions", headers={"Authorization": f"Bearer {token}", "Accept-Language": lang},
            content_type="multipart/form-data",
            data={"assignment": "backprop-quadratic", "file": (io.BytesIO(content), "hw.ipynb")})
        assert response.status_code == status, (lang, response.get_data(as_text=True)[:300])
        if status == 202:
            continue
        error = response.json["error"]
        if lang == "en" and words:
            assert words in error
        if lang == "zh":
            assert any("\u4e00" <= ch <= "\u9fff" for ch in error), error
    if status != 202:  # the form: the page says the same sentence, in the viewer's language
        try:
            accept(content, "hw.ipynb")
            refused = None
        except SubmissionError as exc:
            refused = exc
        for lang in ("en", "zh"):
            client = client_as(app, "wang")
            client.set_cookie("lang", lang)
            form = post_form(client, content, "hw.ipynb")
            assert form.status_code == status
            page = form.get_data(as_text=True)
            if len(content) > NOTEBOOK_MAX_BYTES:  # refused as a request, before any file is read
                assert ("larger than" in page) if lang == "en" else ("大于" in page or "超过" in page), page[-1500:]
            elif refused is not None:
                assert str(escape(refused.render(lang))) in page, lang


def test_the_first_difference_table_names_the_cell_and_line_in_both_languages(app):
    from grader.models import CheckResultRow
    from web_helpers import add_graded

    sid = add_graded(app, "alice")
    script = add_graded(app, "bob")
    with db_of(app).session() as session:
        for submission, where in ((sid, {"cell": 5, "line": 3}), (script, {"line": 27})):
            row = session.query(CheckResultRow).filter_by(submission_id=submission, kind="trace").one()
            row.details = {**row.details, "first": {**row.details["first"], **where}}
        session.get(Submission, sid).notebook = colab_notebook(CELLS)
    for lang, notebook, plain, output in (("en", "cell 5, line 3", "line 27", ("Your notebook's output",
                                                                             "Your script's output")),
                                          ("zh", "第 5 个单元格第 3 行", "第 27 行", ("你的笔记本输出", "你的脚本输出"))):
        for user, submission, words, heading in (("alice", sid, notebook, output[0]), ("bob", script, plain, output[1])):
            client = client_as(app, user)
            client.set_cookie("lang", lang)
            page = client.get(f"/submissions/{submission}").get_data(as_text=True)
            assert f'<td class="where">{words}</td>' in page, (lang, user)
            assert f"<h2>{heading}</h2>" in page, (lang, user)
