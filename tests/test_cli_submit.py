"""`grader submit` against a live server: submit, wait with a spinner, print the result as the page would;
server and token from options, environment or the config file; refusals as one line, never a traceback."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from grader.models import CheckResultRow, Submission, utcnow
from grader.service import accounts
from service_helpers import ASSIGNMENTS, free_port
from web_helpers import db_of

GRADER = str(Path(sys.executable).with_name("grader"))
SOLUTION = ASSIGNMENTS / "backprop-quadratic" / "solution.py"


@pytest.fixture
def live(app):
    with db_of(app).session() as session:
        app.token = accounts.issue_token(session, "wang")
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.url = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    thread.join(10)


def run(*args: str, env: dict | None = None, home: Path | None = None, timeout: float = 60):
    base = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    if home is not None:
        base["XDG_CONFIG_HOME"] = str(home)
    base.update(env or {})
    return subprocess.run([GRADER, "submit", *args], env=base, capture_output=True, text=True, timeout=timeout)


def grade_when_submitted(app, delay: float = 1.5) -> threading.Thread:
    """Plays the worker: once a submission arrives, marks it running, then graded with a diagnosis."""
    def work():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with db_of(app).session() as session:
                s = session.scalars(sa.select(Submission)).first()
                if s is not None:
                    s.status = "running"
                    break
            time.sleep(0.1)
        time.sleep(delay)
        with db_of(app).session() as session:
            s = session.scalars(sa.select(Submission)).first()
            s.status, s.score, s.max_score, s.finished_at = "graded", 40.1, 100.0, utcnow()
            s.diagnoses = [{"code": "mistake.no_zero_grad", "params": {}}]
            s.stdout_excerpt = "grad: 王 <b>\n"
            session.add(CheckResultRow(submission_id=s.id, check_id="trace", position=0, kind="trace", passed=False,
                                       points=0.1, max_points=30, message_code="trace.first_divergence",
                                       message_params={"matched": 1, "steps": 300, "step": 2, "epoch": 1, "sample": 2,
                                                       "param": "w1", "index": "", "expected": 22.88, "got": 24.88}))
            session.add(CheckResultRow(submission_id=s.id, check_id="secret", position=1, kind="predictions",
                                       passed=False, points=0, max_points=30, visibility="hidden",
                                       message_code="predictions.mismatch"))
            session.add(CheckResultRow(submission_id=s.id, check_id="runs", position=2, kind="runs", passed=True,
                                       points=10, max_points=10, message_code="runs.ok"))
            session.add(CheckResultRow(submission_id=s.id, check_id="gradients", position=3, kind="gradients",
                                       passed=True, points=30, max_points=30, message_code="gradients.ok",
                                       message_params={"probes": 8}))
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_submit_and_wait_prints_the_result_as_the_page_does(live, tmp_path):
    worker = grade_when_submitted(live)
    proc = run(str(SOLUTION), "--assignment", "backprop-quadratic", "--wait",
               env={"GRADER_SERVER": live.url, "GRADER_TOKEN": live.token})
    worker.join(5)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # the hidden check's 30 points are not in the score (grader.visibility), only named
    assert "solution.py — backprop-quadratic" in out and "Score: 40.1 / 70  + 30 points not shown yet" in out
    assert "FAIL  trace" in out and "The first difference is at step 2" in out
    assert "----  secret" in out and "?" in out  # a hidden check: only that it exists
    assert "Your gradients are never zeroed" in out and "grad: 王 <b>" in out
    assert "Traceback" not in proc.stderr


def test_submit_without_wait_prints_the_submission_and_reads_the_config_file(live, tmp_path):
    config = tmp_path / "grader" / "config.toml"
    config.parent.mkdir()
    config.write_text(f'server = "{live.url}"\ntoken = "{live.token}"\n')
    proc = run(str(SOLUTION), "--assignment", "backprop-quadratic", home=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("submitted #") and "/api/submissions/" in proc.stdout
    proc = run(str(SOLUTION), "--assignment", "backprop-quadratic", "--json", home=tmp_path)
    assert proc.returncode == 2 and "submitted less than" in proc.stderr  # the pages' interval, from the server


def test_refusals_are_one_line_without_a_traceback(live, tmp_path):
    cases = [
        ((str(SOLUTION), "--assignment", "backprop-quadratic"), {}, "no server"),
        ((str(SOLUTION), "--assignment", "backprop-quadratic", "--server", live.url), {}, "no API token"),
        ((str(SOLUTION), "--assignment", "backprop-quadratic", "--server", live.url, "--token", "wrong"), {},
         "refused (401)"),
        ((str(SOLUTION), "--assignment", "nope", "--server", live.url, "--token", live.token), {},
         "unknown assignment"),
        ((str(tmp_path / "missing.py"), "--assignment", "x", "--server", live.url, "--token", live.token), {},
         "cannot read"),
        ((str(SOLUTION), "--assignment", "x", "--server", "ftp://x", "--token", "t"), {}, "http://"),
        ((str(SOLUTION), "--assignment", "x", "--server", f"http://127.0.0.1:{free_port()}", "--token", "t"), {},
         "cannot reach"),
    ]
    for args, env, phrase in cases:
        proc = run(*args, env=env, home=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert phrase in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)


def test_wait_gives_up_after_its_timeout(live):
    proc = run(str(SOLUTION), "--assignment", "backprop-quadratic", "--wait", "--timeout", "1", "--json",
               env={"GRADER_SERVER": live.url, "GRADER_TOKEN": live.token})
    assert proc.returncode == 1 and "no result after 1 s (status: Queued)" in proc.stderr


def test_the_spinner_draws_on_a_terminal_only(live):
    from click.testing import CliRunner

    from grader import cli_submit

    worker = grade_when_submitted(live, delay=1.0)
    result = CliRunner().invoke(cli_submit.submit, [str(SOLUTION), "--assignment", "backprop-quadratic", "--wait",
                                                    "--server", live.url, "--token", live.token, "--json"])
    worker.join(5)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["score"] == 40.1
    assert "⠋" not in result.output  # not a terminal: no spinner frames


def test_a_spinner_turns_while_waiting_on_a_terminal(live):
    import pty

    master, slave = pty.openpty()
    worker = grade_when_submitted(live, delay=2.0)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env.update(GRADER_SERVER=live.url, GRADER_TOKEN=live.token)
    proc = subprocess.Popen([GRADER, "submit", str(SOLUTION), "--assignment", "backprop-quadratic", "--wait"],
                            env=env, stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    out, _err = proc.communicate(timeout=60)
    worker.join(5)
    drawn = b""
    try:
        while chunk := os.read(master, 65536):
            drawn += chunk
    except OSError:
        pass
    os.close(master)
    assert proc.returncode == 0 and "Score: 40.1 / 70" in out
    frames = drawn.decode("utf-8", "replace")
    assert "Running…" in frames and sum(frames.count(c) for c in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏") >= 3


def test_submit_takes_a_notebook_and_a_broken_one_gets_the_server_s_sentence(live, tmp_path):
    from notebook_files import colab_notebook, script_cells

    env = {"GRADER_SERVER": live.url, "GRADER_TOKEN": live.token}
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    proc = run(str(broken), "--assignment", "backprop-quadratic", env=env)
    assert proc.returncode != 0 and "its text is not JSON" in proc.stderr and "Traceback" not in proc.stderr
    proc = run(str(broken), "--assignment", "backprop-quadratic", "--lang", "zh", env=env)
    assert proc.returncode != 0 and "它的内容不是 JSON" in proc.stderr, proc.stderr  # the student's language
    notebook = tmp_path / "hw.ipynb"
    notebook.write_text(colab_notebook(script_cells(SOLUTION.read_text())))
    proc = run(str(notebook), "--assignment", "backprop-quadratic", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("submitted #")
    with db_of(live).session() as session:
        [row] = session.scalars(sa.select(Submission)).all()
        assert row.filename == "hw.ipynb" and row.notebook == notebook.read_text()
