"""Browser benchmark: what a student waits for on an idle `grader up` (what `make run` starts), measured in the
system's headless Chromium, and each process kind's peak memory afterwards.

20 submissions of the seed homework, spaced apart (5 students, so that none waits out the 10 s between two
submissions of one assignment): the clock runs from the click on Submit to the score on the page (the live
status's long poll brings the results, plots included, into the page that the upload redirected to).
Prints p50 and p95 (targets: 0.5 s and 1 s), then VmHWM of the web app's processes, the grading processes,
their fork servers and the largest job seen.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the same helpers the service tests use

from service_helpers import free_port, wait_for  # noqa: E402

GRADER = str(Path(sys.executable).with_name("grader"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SEED = ROOT / "assignments" / "backprop-quadratic" / "solution.py"
STUDENTS, SUBMISSIONS, SPACING = 5, 20, 2.5
PASSWORD = "bench-password-1"
# the score and the loss plot laid out on the page (in the page as it loaded, or brought in by the long poll)
SHOWN = """() => ['#score', 'figure[data-plot="loss"] svg'].every(selector => {
    const el = document.querySelector(selector);
    return el !== null && el.getClientRects().length > 0;
})"""


def _processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, command line) of every process."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            out[int(entry)] = (int(stat.rsplit(b")", 1)[1].split()[1]), cmd)
    return out


def _peak_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _descendants(root: int, table: dict[int, tuple[int, str]]) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(p for p, (ppid, _) in table.items() if ppid == pid)
    return found


class JobWatcher(threading.Thread):
    """Samples the jobs' peak memory while the submissions run: a job is a fork server's grandchild (fork
    server → keeper → the job's init, where the harness runs the script)."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.peak, self.stop = root, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            table = _processes()
            servers = [pid for pid in _descendants(self.root, table) if "_server_main" in table[pid][1]]
            keepers = [pid for pid, (ppid, _) in table.items() if ppid in servers]
            for pid, (ppid, _) in table.items():
                if ppid in keepers:
                    self.peak = max(self.peak, _peak_mb(pid) or 0.0)


def _phases(url: str) -> dict[str, float]:
    """p50 seconds of each phase the database saw: submitted → started (the request's commit, the broker, the
    worker's claim) and started → finished (the sandbox run, scoring, the results' transaction)."""
    import sqlalchemy as sa

    from grader.db import Database
    from grader.models import Submission

    db = Database(url)
    try:
        with db.session() as session:
            rows = session.execute(sa.select(Submission.submitted_at, Submission.started_at, Submission.finished_at)
                                   .order_by(Submission.id).offset(STUDENTS)).all()
    finally:
        db.dispose()
    return {"submitted→started": statistics.median((r.started_at - r.submitted_at).total_seconds() for r in rows),
            "started→finished": statistics.median((r.finished_at - r.started_at).total_seconds() for r in rows)}


def main() -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        print(f"skipped: {CHROMIUM} is not installed")
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    data, port = tmp / "instance", free_port()
    log = (tmp / "up.log").open("wb")
    up = subprocess.Popen([GRADER, "up", "--port", str(port), "--data-dir", str(data)], cwd=ROOT, stdout=log,
                          stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    waits: list[float] = []
    try:
        wait_for(lambda: "Press Ctrl-C" in (tmp / "up.log").read_text(errors="replace"), 120, "grader up")
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        env["GRADER_DATABASE_URL"] = f"sqlite:///{data / 'grader.db'}"
        for i in range(STUDENTS):
            subprocess.run([GRADER, "users", "create", f"bench{i}", "--password", PASSWORD], env=env, check=True,
                           capture_output=True)
        watcher = JobWatcher(up.pid)
        watcher.start()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            pages = []
            for i in range(STUDENTS):
                page = browser.new_context().new_page()  # a context each: five students' own cookies
                page.goto(f"{url}/login")
                page.fill("input[name=username]", f"bench{i}")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(re.compile(r".*/assignments$"))
                pages.append(page)
            for n in range(SUBMISSIONS + STUDENTS):  # the first round warms every grading process
                page = pages[n % STUDENTS]
                page.goto(f"{url}/assignments/backprop-quadratic")
                page.set_input_files("input[type=file]", str(SEED))
                started = time.monotonic()
                page.click("#upload-form button[type=submit]")
                # checked at every animation frame: expect().to_be_visible() retries at 100, 250, 500, 1000 ms
                # intervals, which added up to half a second to what the student waits
                page.wait_for_function(SHOWN, polling="raf", timeout=60_000)
                if n >= STUDENTS:
                    waits.append(time.monotonic() - started)
                time.sleep(SPACING)
            browser.close()
        watcher.stop.set()
        table = _processes()
        tree = _descendants(up.pid, table)
        kinds: dict[str, list[float]] = {"web (gunicorn)": [], "grading process": [], "fork server": []}
        for pid in tree:
            cmd, peak = table[pid][1], _peak_mb(pid) or 0.0
            if "gunicorn" in cmd:
                kinds["web (gunicorn)"].append(peak)
            elif "_server_main" in cmd:
                kinds["fork server"].append(peak)
            elif "grader worker" in cmd or "celery" in cmd:
                kinds["grading process"].append(peak)
        peaks = {kind: max(values) for kind, values in kinds.items() if values}
        peaks["job (seed homework)"] = watcher.peak
        phases = _phases(f"sqlite:///{data / 'grader.db'}")
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGINT)
            try:
                up.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(up.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    ordered = sorted(waits)
    print(f"{SUBMISSIONS} seed-homework submissions in headless Chromium on an idle `grader up` "
          f"({os.cpu_count()} CPUs): click on Submit → score and plots on the page")
    print(f"p50 {statistics.median(ordered):.2f} s, p95 {ordered[int(0.95 * (len(ordered) - 1))]:.2f} s, "
          f"max {ordered[-1]:.2f} s (targets: p50 ≤ 0.5 s, p95 ≤ 1 s)")
    print("p50 of the phases the database saw: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items())
          + "; the rest is the browser's: the upload's redirect, the page, the long poll's answer")
    print("peak memory (VmHWM) per process kind, MB: "
          + ", ".join(f"{kind} {mb:.0f}" for kind, mb in peaks.items()))


if __name__ == "__main__":
    main()
