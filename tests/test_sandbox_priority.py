"""A job never inherits the worker's scheduling: a real-time worker must not hand that to a fork bomb."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, os, sys
sys.path.insert(0, {root!r})
from worker.sandbox import Job, Limits, get_sandbox
box = get_sandbox({backend!r})
source = "import os; print(os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0))"
result = box.run(Job(source=source, plan={{}}), Limits(wall_seconds=20))
box.close()
print(json.dumps({{"worker": os.sched_getscheduler(0), "job": result.stdout.split()}}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["forkserver", "bwrap"])
def test_a_job_of_a_real_time_worker_runs_at_normal_policy_and_lower_priority(backend):
    if shutil.which("chrt") is None:
        pytest.skip("chrt (util-linux) is not installed")
    code = PROBE.format(root=str(ROOT), backend=backend)
    proc = subprocess.run(["chrt", "-f", "10", sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["worker"] == 1  # SCHED_FIFO: the worker really was real-time
    assert out["job"] == ["0", "10"]  # SCHED_OTHER, nice 10


LONG_JOB = """
import os, threading, time
seen = []
worker = threading.Thread(target=lambda: (time.sleep({wait}), seen.append(os.getpriority(os.PRIO_PROCESS, 0))))
worker.start()
child = os.fork()
if child == 0:
    os.setsid()  # a daemon of its own session is demoted all the same
    time.sleep({wait})
    print("child", os.getpriority(os.PRIO_PROCESS, 0), flush=True)
    os._exit(0)
time.sleep({wait})
worker.join()
os.waitpid(child, 0)
print("main", os.getpriority(os.PRIO_PROCESS, 0), "thread", seen[0])
try:
    os.setpriority(os.PRIO_PROCESS, 0, 10)
    print("renice allowed")
except OSError as exc:
    print("renice refused", exc.errno)
"""


def test_a_long_job_drops_to_the_lowest_priority_and_cannot_climb_back(sandbox):
    """One student's endless loop must not slow another's fresh job: past LONG_JOB_SECONDS every thread and
    process of the job (one in a session of its own too) runs at nice 19, for good."""
    from worker.sandbox import Job, Limits
    from worker.sandbox.privileges import JOB_NICE, LONG_JOB_NICE, LONG_JOB_SECONDS

    quick = sandbox.run(Job(source="import os; print(os.getpriority(os.PRIO_PROCESS, 0))", plan={}),
                        Limits(wall_seconds=20))
    assert quick.stdout.split() == [str(JOB_NICE)]
    long = sandbox.run(Job(source=LONG_JOB.format(wait=LONG_JOB_SECONDS + 1.5), plan={}), Limits(wall_seconds=20))
    lines = long.stdout.splitlines()
    assert f"child {LONG_JOB_NICE}" in lines and f"main {LONG_JOB_NICE} thread {LONG_JOB_NICE}" in lines, long
    assert lines[-1].startswith("renice refused"), long
