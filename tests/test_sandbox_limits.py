"""The limits hold on both namespace backends: wall clock, CPU, processes, memory, output, outcome size."""
from __future__ import annotations

import json
import os
import signal
import textwrap
import threading
import time
import uuid

import pytest

from worker.sandbox import Job, Limits
from worker.sandbox.namespaces import UID_BASE


@pytest.fixture(params=["forkserver", "bwrap"])
def sandbox(request):
    return request.getfixturevalue(f"{request.param}_sandbox")


def run(sandbox, source: str, **limits):
    return sandbox.run(Job(textwrap.dedent(source), plan={}), Limits(**limits))


def host_processes(predicate) -> list[dict]:
    """Processes of the host (pid, uid, cmdline) for which predicate(process) holds."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/status") as f:
                uid = int(next(line for line in f if line.startswith("Uid:")).split()[1])
        except (OSError, StopIteration):
            continue
        process = {"pid": int(pid), "uid": uid, "cmdline": cmdline}
        if predicate(process):
            found.append(process)
    return found


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _ours(pid: int) -> bool:
    """Whether the process descends from this test process (its fork server, its jobs) or escaped to the host's
    init (a leak, whoever's it is); the run's other test processes have sandboxes and jobs of their own."""
    me, parent = os.getpid(), _parent(pid)
    if parent == 1:
        return True
    while parent > 1:
        if parent == me:
            return True
        parent = _parent(parent)
    return False


def sandbox_processes() -> list[dict]:
    """This test process's processes running as one of the jobs' host uids (UID_BASE + 2 * keeper pid + 1). The
    uid below it, root of a job's namespace, is held by the spare init that waits, its root built, for the next
    job."""
    return host_processes(lambda p: p["uid"] >= UID_BASE and (p["uid"] - UID_BASE) % 2 == 1 and _ours(p["pid"]))


def wait_until(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return condition()


DAEMON = """
    import os, sys, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time\\nwhile True: time.sleep(0.05)",
                                      {marker!r}])
        os._exit(0)
    {then}
"""


@pytest.mark.slow
def test_the_wall_clock_kills_the_job_and_the_daemon_it_started(sandbox):
    marker = f"bpg-daemon-{uuid.uuid4().hex}"
    source = DAEMON.format(marker=marker, then="while True:\n        pass")
    results = []
    worker = threading.Thread(target=lambda: results.append(run(sandbox, source, wall_seconds=2.5)))
    worker.start()
    daemons = wait_until(lambda: host_processes(lambda p: marker in p["cmdline"]), 5)
    worker.join()
    result = results[0]
    assert daemons, "the daemon never started"
    assert all(d["uid"] >= UID_BASE for d in daemons)  # a host uid of the job's own, never root
    assert result.timed_out and result.signal == signal.SIGKILL and result.exit_code is None
    assert result.wall_seconds < 2.5 + 10  # the limit plus a margin for a shared, loaded machine
    assert wait_until(lambda: not host_processes(lambda p: marker in p["cmdline"]), 10)
    assert wait_until(lambda: not sandbox_processes(), 10)


def test_a_daemon_dies_when_the_job_ends_normally(sandbox):
    marker = f"bpg-daemon-{uuid.uuid4().hex}"
    result = run(sandbox, DAEMON.format(marker=marker, then="time.sleep(0.3)\n    print('bye')"))
    assert result.stdout == "bye\n" and not result.timed_out
    assert wait_until(lambda: not host_processes(lambda p: marker in p["cmdline"]), 2)


@pytest.mark.slow
def test_a_fork_bomb_is_contained(sandbox):
    result = run(sandbox, """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """, processes=16, wall_seconds=2)
    assert result.timed_out
    assert wait_until(lambda: not sandbox_processes(), 10)  # a loaded machine needs seconds to reap 16


def test_the_process_limit_counts_only_this_jobs_processes(sandbox):
    result = run(sandbox, """
        import os, time
        children = 0
        try:
            while children < 1000:
                if os.fork() == 0:
                    time.sleep(10)
                    os._exit(0)
                children += 1
        except OSError as exc:
            print(children, exc.errno)
    """, processes=16)
    children, errno_ = map(int, result.stdout.split())
    assert 10 <= children < 16 and errno_ == 11  # EAGAIN: the job's own uid hit RLIMIT_NPROC


def test_a_memory_bomb_is_contained(sandbox):
    result = run(sandbox, """
        import numpy as np
        try:
            huge = bytearray(8 * 1024**3)
        except MemoryError:
            print("one big allocation refused")
        hoard = []
        try:
            while True:
                hoard.append(np.ones(10**7))
        except MemoryError:
            print("refused after", len(hoard) * 80, "MB")
    """, memory_mb=256)
    lines = result.stdout.splitlines()
    assert lines[0] == "one big allocation refused", result.stderr
    assert lines[1].startswith("refused after") and int(lines[1].split()[2]) < 256 + 1024
    assert result.exit_code == 0 and not result.timed_out


def test_cpu_time_is_limited(sandbox):
    # the fake harness has no SIGXCPU handler (the real one's report: tests/test_cpu_limit.py), so the hard
    # limit's SIGKILL ends it, long before the wall clock (a loaded host stretches CPU seconds a little)
    result = run(sandbox, "while True:\n    pass\n", cpu_seconds=1, wall_seconds=30)
    assert result.signal == signal.SIGKILL and not result.timed_out
    assert result.wall_seconds < 25


def test_an_output_flood_is_capped_and_costs_nothing_but_the_cap(sandbox):
    result = run(sandbox, """
        import os, sys
        chunk = b"x" * (1 << 20)
        for _ in range(1024):  # 1 GiB
            os.write(1, chunk)
        print("still alive", file=sys.stderr)
    """, output_kb=64)
    assert result.exit_code == 0 and not result.timed_out
    assert len(result.stdout) == 64 * 1024 and result.stdout_truncated
    assert result.stderr == "still alive\n" and not result.stderr_truncated
    assert result.wall_seconds < 30


def test_the_outcome_is_read_with_a_cap(sandbox):
    result = run(sandbox, """
        import os
        os.write(OUTCOME_FD, b"y" * (3 * 1024 * 1024))
    """, outcome_kb=100)
    assert result.outcome_raw == b"y" * (100 * 1024)
    assert result.outcome_truncated


def test_files_are_capped_by_the_size_of_home(sandbox):
    result = run(sandbox, """
        try:
            with open("big.bin", "wb") as f:
                for _ in range(64):
                    f.write(b"z" * (1 << 20))
        except OSError as exc:
            print(type(exc).__name__, exc.errno)
    """, disk_mb=8)
    assert result.stdout.split()[0] == "OSError" and int(result.stdout.split()[1]) in (27, 28)  # EFBIG, ENOSPC


def test_a_job_that_writes_a_json_outcome_gets_it_back_raw(sandbox):
    result = run(sandbox, """
        import json, os
        os.write(OUTCOME_FD, json.dumps({"forged": True}).encode())
        os.close(OUTCOME_FD)
        os._exit(0)
    """)
    assert json.loads(result.outcome_raw) == {"forged": True}



def test_each_job_gets_its_own_disk_size_even_when_the_last_one_differed(forkserver_sandbox):
    """The fork server builds the next job's root ahead of time with the last job's size; a job that asks
    for another size gets its tmpfs dirs resized before its code runs."""
    probe = """
        import os
        for path in ("/home/student", "/tmp"):
            st = os.statvfs(path)
            print(path, st.f_blocks * st.f_frsize // (1 << 20))
    """

    def sizes(disk_mb):
        result = run(forkserver_sandbox, probe, disk_mb=disk_mb)
        assert result.exit_code == 0, result.stderr
        return dict((p, int(mb)) for p, mb in (line.split() for line in result.stdout.splitlines()))

    assert sizes(8) == {"/home/student": 8, "/tmp": 8}
    assert sizes(8) == {"/home/student": 8, "/tmp": 8}  # made ahead of time at the right size
    assert sizes(24) == {"/home/student": 24, "/tmp": 24}  # resized
    assert sizes(8) == {"/home/student": 8, "/tmp": 8}
