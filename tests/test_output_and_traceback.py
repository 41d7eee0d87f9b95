"""What a student reads of their script's run: a long output's head and tail (the prediction after training is
printed last) with the whole one link away, and where a script raised: the traceback's frames in their own file,
never the harness's."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from grader.models import CheckResultRow, Submission
from grader.spec import load_spec
from web_helpers import add_graded, client_as, db_of

ROOT = Path(__file__).resolve().parent.parent

LONG = "".join(f"epoch {i} loss {1 / (i + 1):.6f}\n" for i in range(20_000)) + "Predict (after training) 4 8.5441\n"


def test_a_long_output_shows_its_head_and_its_tail_and_links_to_the_whole(app):
    sid = add_graded(app, "alice", stdout=LONG)
    student = client_as(app, "alice")
    page = student.get(f"/submissions/{sid}").get_data(as_text=True)
    assert "epoch 0 loss 1.000000" in page  # the head
    assert "Predict (after training) 4 8.5441" in page  # the tail: the line that matters
    assert "epoch 10000 loss" not in page  # the middle is one link away
    assert "characters not shown here" in page and f'href="/submissions/{sid}/output.txt"' in page
    whole = student.get(f"/submissions/{sid}/output.txt")
    assert whole.status_code == 200 and whole.mimetype == "text/plain"
    assert whole.get_data(as_text=True) == LONG
    assert whole.headers["X-Content-Type-Options"] == "nosniff"
    # another student's output is not theirs to read
    assert client_as(app, "bob").get(f"/submissions/{sid}/output.txt").status_code == 404


def test_a_short_output_is_shown_whole_without_a_gap(app):
    sid = add_graded(app, "alice", stdout="Predict (after training) 4 8.5441\n")
    page = client_as(app, "alice").get(f"/submissions/{sid}").get_data(as_text=True)
    assert "Predict (after training) 4 8.5441" in page and "characters not shown here" not in page


def test_the_worker_keeps_what_the_sandbox_kept_of_the_output(app):
    from grader.service import attempts

    assert attempts.STDOUT_EXCERPT_CHARS >= 256 * 1024  # a spec's output_kb is at most 256 KB


RAISES = """\
import torch

def forward(x):
    return x * w

def loss(x, y):
    return helper(forward(x), y)

def helper(a, b):
    return (a - b) ** 2 / undefined_scale

w = torch.tensor([1.0], requires_grad=True)
for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]):
    l = loss(x, y)
"""


def test_a_runtime_error_shows_the_frames_in_the_students_file_only(app, sandbox):
    from worker.grading import grade_source

    spec = load_spec(ROOT / "assignments" / "backprop-linear" / "assignment.yaml")
    result = grade_source(spec, RAISES, sandbox, filename="hw.py")[0]
    runs = next(c for c in result.checks if c.id == "runs")
    traceback = runs.details["traceback"]
    assert 'File "hw.py", line 14' in traceback and 'line 7, in loss' in traceback and "line 10, in helper" in traceback
    assert "NameError: name 'undefined_scale' is not defined" in traceback
    assert "harness" not in traceback and "site-packages" not in traceback and "/srv" not in traceback

    sid = add_graded(app, "alice", mistake=False)
    with db_of(app).session() as session:
        row = session.scalars(sa.select(CheckResultRow).where(CheckResultRow.submission_id == sid,
                                                              CheckResultRow.check_id == "runs")).one()
        row.passed, row.points, row.message_code = False, 0, runs.message.code
        row.message_params, row.details = runs.message.params, runs.details
        session.get(Submission, sid).score = 0
    page = client_as(app, "alice").get(f"/submissions/{sid}").get_data(as_text=True)
    section = page.split('id="traceback"', 1)[1].split("</section>", 1)[0]
    assert "Where your script stopped" in section and "line 10, in helper" in section
    assert "undefined_scale" in section
