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
