"""`grader up`: the embedded service starts, grades over HTTP, stops everything on a signal, and a second
start on the same data folder keeps every submission."""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from grader.db import Database
from grader.models import Submission
from grader.service.accounts import find_user
from grader.submissions import submit
from service_helpers import ROOT, SOLUTION, free_port, wait_for

pytestmark = pytest.mark.slow
GRADER = str(Path(sys.executable).with_name("grader"))


def processes_using(marker: str) -> list[int]:
    """Pids whose environment mentions marker (our data folder): what `grader up` started."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
    return found


class Up:
    def __init__(self, port: int, data: Path, log: Path):
        self.port, self.log = port, log
        self.proc = subprocess.Popen([GRADER, "up", "--port", str(port), "--data-dir", str(data), "--workers", "2",
                                      "--spare", "1"],
                                     cwd=ROOT,
                                     stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: "Press Ctrl-C" in self.output() or self.proc.poll() is not None, 90, "grader up")
        assert self.proc.poll() is None, self.output()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def request(self, method: str, path: str, token: str, body: bytes | None = None, ctype: str | None = None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, method=method,
                                     headers={"Authorization": f"Bearer {token}", **({"Content-Type": ctype} if ctype else {})})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def upload(self, token: str, source: str) -> tuple[int, dict]:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"assignment\"\r\n\r\nbackprop-linear\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hw.py\"\r\n"
                f"Content-Type: text/x-python\r\n\r\n{source}\r\n--{boundary}--\r\n").encode()
        return self.request("POST", "/api/submissions", token, body, f"multipart/form-data; boundary={boundary}")

    def stop(self, sig=signal.SIGINT) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(60)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


def test_grader_up_grades_stops_cleanly_and_keeps_submissions_on_restart(tmp_path):
    data, port = tmp_path / "instance", free_port()
    url = f"sqlite:///{data / 'grader.db'}"
    started: list[Up] = []
    try:
        up = Up(port, data, tmp_path / "up1.log")
        started.append(up)
        passwords = re.findall(r"^\s+(\w+)\s+(\w+)\s+password: (\S+)$", up.output(), re.M)
        assert [p[0] for p in passwords] == ["instructor", "ta", "student"]
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}, "GRADER_DATABASE_URL": url}
        token = subprocess.run([GRADER, "users", "token", "student"], env=env, capture_output=True, text=True,
                               check=True).stdout.strip()
        status, body = up.upload(token, SOLUTION)
        assert status == 202, body
        sid = body["id"]
        wait_for(lambda: up.request("GET", f"/api/submissions/{sid}", token)[1]["status"] == "graded", 90,
                 "the submission to be graded")
        result = up.request("GET", f"/api/submissions/{sid}", token)[1]  # the prediction opens after the deadline
        assert (result["score"], result["points_not_shown"]) == (85, 15)
        assert "grading: 3 processes (2 + 1 spare for long jobs)" in up.output()
        wait_for(lambda: len(heartbeats(url)) == 3, 60, "every grading process to report")  # --workers 2 --spare 1
        assert up.stop(signal.SIGINT) == 0
        assert processes_using(str(data)) == [], "grader up left processes behind"

        # while nothing runs, a submission arrives in the database only (its wake-up is lost)
        db = Database(url)
        with db.session() as session:
            student_id = find_user(session, "student").id
        waiting = submit(db, lambda _id: False, student_id, "backprop-linear", SOLUTION).id

        up = Up(port, data, tmp_path / "up2.log")
        started.append(up)
        assert "password:" not in up.output()  # demo accounts are made and shown once
        assert up.request("GET", f"/api/submissions/{sid}", token)[1]["status"] == "graded"
        wait_for(lambda: up.request("GET", f"/api/submissions/{waiting}", token)[1]["status"] == "graded", 90,
                 "the submission left queued to be graded after the restart")
        assert up.stop(signal.SIGTERM) == 0
        assert processes_using(str(data)) == []
        with db.session() as session:
            assert session.query(Submission).count() == 2
        db.dispose()
    finally:
        for up in started:
            if up.proc.poll() is None:
                up.kill()
        for pid in processes_using(str(data)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_grader_up_refuses_a_port_in_use(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = subprocess.run([GRADER, "up", "--port", str(port), "--data-dir", str(tmp_path / "d")], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and f"port {port}" in proc.stderr and "Traceback" not in proc.stderr


def heartbeats(url: str) -> list[str]:
    """The grading processes that have reported (one row per pool process)."""
    import sqlalchemy as sa

    from grader.models import WorkerHeartbeat

    db = Database(url)
    try:
        with db.session() as session:
            return list(session.scalars(sa.select(WorkerHeartbeat.name)))
    finally:
        db.dispose()
