"""The fork server's life: many jobs on one server, failures that stay with their job, restarts, reaping."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from worker.sandbox import Job, Limits, get_sandbox
from worker.sandbox.forkserver import ForkServerSandbox
from worker.sandbox.rootfs import JOB_ENV
from sandbox_helpers import bind_entries_under

# the seed homework of DESIGN.md
SEED = Path(__file__).resolve().parent.parent / "assignments" / "backprop-quadratic" / "solution.py"
REPO = Path(__file__).resolve().parent.parent


def run(sandbox, source: str, **limits):
    return sandbox.run(Job(textwrap.dedent(source), plan={}), Limits(**limits))


def children_of(pid: int) -> list[tuple[int, str]]:
    """(pid, state) of the host processes whose parent is pid."""
    found = []
    for child in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{child}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append((int(child), fields[0]))
    return found


def test_twenty_jobs_in_a_row_each_get_their_own_result(forkserver_sandbox):
    server = forkserver_sandbox.server_pid
    endings = [
        ("print('job', {i})", lambda r, i: r.stdout == f"job {i}\n" and r.exit_code == 0),
        ("raise ValueError('bad {i}')", lambda r, i: f"ValueError: bad {i}" in r.stderr
         and json.loads(r.outcome_raw)["status"] == "error"),
        ("import sys; print({i}); sys.exit(3)", lambda r, i: r.stdout == f"{i}\n"
         and json.loads(r.outcome_raw)["status"] == "exit"),
        ("import os; print({i}, flush=True); os._exit(7)", lambda r, i: r.exit_code == 7
         and r.outcome_raw is None and r.stdout == f"{i}\n"),
        ("import ctypes; print({i}); ctypes.string_at(0)", lambda r, i: r.signal == signal.SIGSEGV
         and r.stdout == f"{i}\n"),
    ]
    for i in range(20):
        source, check = endings[i % len(endings)]
        result = run(forkserver_sandbox, source.format(i=i))
        assert check(result, i), (i, result)
        assert not result.timed_out
    assert forkserver_sandbox.server_pid == server


def test_a_job_cannot_leave_anything_for_the_next(forkserver_sandbox):
    run(forkserver_sandbox, """
        import os
        open("/home/student/left.txt", "w").write("x")
        open("/tmp/left.txt", "w").write("x")
        os.environ["LEFT"] = "x"
    """)
    result = run(forkserver_sandbox, """
        import os
        print(os.listdir("/home/student"), os.listdir("/tmp"), "LEFT" in os.environ)
    """)
    tmp = bind_entries_under("/tmp")
    assert result.stdout in (f"['submission.py'] {tmp} False\n", f"[] {tmp} False\n")


def test_the_job_environment_is_the_fixed_one(forkserver_sandbox):
    result = run(forkserver_sandbox, "import os, json; print(json.dumps(dict(os.environ)))")
    assert json.loads(result.stdout) == JOB_ENV


def _spare_with_its_init(server: int) -> tuple[int, int]:
    """The spare keeper and its waiting init, once the last job's keeper has exited and the spare has forked
    its init (on a loaded machine either may take a moment)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        keepers = children_of(server)
        if len(keepers) == 1 and len(children_of(keepers[0][0])) == 1:
            break
        time.sleep(0.02)
    (spare, _state), = children_of(server)
    (init, _state), = children_of(spare)
    return spare, init


def test_keepers_are_reaped_and_one_spare_waits(forkserver_sandbox):
    """After the jobs, the fork server's only child is the spare keeper made ready for the next job: in a
    user namespace of its own already, with its init waiting (in a pid namespace of its own) for a job."""
    for _ in range(3):
        run(forkserver_sandbox, "print('x')")
    server = forkserver_sandbox.server_pid
    spare, _init = _spare_with_its_init(server)
    children = children_of(server)
    assert len(children) == 1 and children[0][1] == "S"
    assert os.readlink(f"/proc/{spare}/ns/user") != os.readlink(f"/proc/{server}/ns/user")
    (init, state), = children_of(spare)
    assert state == "S" and children_of(init) == []
    assert os.readlink(f"/proc/{init}/ns/pid") != os.readlink(f"/proc/{spare}/ns/pid")
    assert [c for c in children_of(os.getpid()) if c[1] == "Z"] == []


def test_a_dead_spare_init_is_replaced_and_the_job_still_runs(forkserver_sandbox):
    run(forkserver_sandbox, "print('warm')")
    _spare, init = _spare_with_its_init(forkserver_sandbox.server_pid)
    os.kill(init, signal.SIGKILL)
    result = run(forkserver_sandbox, "print('still runs')")
    assert result.stdout == "still runs\n" and result.exit_code == 0
    assert forkserver_sandbox.restarts == 0


def test_a_dead_spare_keeper_is_replaced_and_the_job_still_runs(forkserver_sandbox):
    run(forkserver_sandbox, "print('warm')")
    server = forkserver_sandbox.server_pid
    deadline = time.monotonic() + 2
    while len(children_of(server)) != 1 and time.monotonic() < deadline:  # the last job's keeper exits
        time.sleep(0.02)
    (spare, _state), = children_of(server)
    os.kill(spare, signal.SIGKILL)
    result = run(forkserver_sandbox, "print('still runs')")
    assert result.stdout == "still runs\n" and result.exit_code == 0
    assert forkserver_sandbox.restarts == 0  # the fork server itself never noticed more than a dead child


@pytest.mark.slow
def test_the_fork_server_is_restarted_after_sigkill_with_a_clean_environment(fake_harness, monkeypatch):
    monkeypatch.setenv("BPG_TEST_SECRET", "hunter2")
    with ForkServerSandbox(fake_harness) as sandbox:
        assert run(sandbox, "print('first')").stdout == "first\n"
        first = sandbox.server_pid
        os.kill(first, signal.SIGKILL)
        time.sleep(0.1)
        result = run(sandbox, """
            import os
            print("second", "hunter2" in open("/proc/self/environ").read(), "BPG_TEST_SECRET" in os.environ)
        """)
        assert result.stdout == "second False False\n"
        assert sandbox.restarts == 1 and sandbox.server_pid not in (None, first)


@pytest.mark.slow
def test_a_job_interrupted_by_the_fork_server_dying_is_run_again(fake_harness):
    with ForkServerSandbox(fake_harness) as sandbox:
        sandbox.start()
        doomed = sandbox.server_pid
        threading.Timer(0.5, os.kill, (doomed, signal.SIGKILL)).start()
        result = run(sandbox, "import time; time.sleep(1.5); print('done')")
        assert result.stdout == "done\n"
        assert sandbox.restarts == 1


@pytest.mark.slow
def test_when_the_worker_dies_its_job_dies_too(fake_harness, tmp_path):
    marker = f"bpg-orphan-{uuid.uuid4().hex}"
    job = textwrap.dedent(f"""
        import os, sys, time
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", {marker!r}])
        time.sleep(60)
    """)
    worker = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from worker.sandbox.forkserver import ForkServerSandbox
        from worker.sandbox import Job, Limits
        sandbox = ForkServerSandbox({str(fake_harness)!r})
        sandbox.start()
        print("started", flush=True)
        sandbox.run(Job({job!r}, {{}}), Limits(wall_seconds=60))
    """)
    proc = subprocess.Popen([sys.executable, "-c", worker], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "started\n"

    def orphans():
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(pid))
            except OSError:
                pass
        return found

    deadline = time.monotonic() + 5
    while not orphans() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert orphans(), "the job never started"
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 5
    while orphans() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert orphans() == []


def test_get_sandbox_names_the_backends(fake_harness):
    assert get_sandbox("docker").name == "docker"
    with pytest.raises(ValueError, match="forkserver, bwrap, docker"):
        get_sandbox("chroot")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["forkserver", "bwrap"])
def test_the_seed_homework_runs_under_the_real_harness(backend, request):
    plan = {"params": ["w1", "w2", "b"], "forward": "forward", "loss": "loss", "predict_inputs": [4.0]}
    with contextlib.ExitStack() as stack:
        # the session's real fork server; a bwrap backend of its own (bwrap_sandbox runs the fake harness)
        box = (request.getfixturevalue("sandbox") if backend == "forkserver"
               else stack.enter_context(get_sandbox(backend)))
        result = box.run(Job(SEED.read_text(), plan=plan, filename="quadratic.py"), Limits())
    assert "Predict(after training) 4 8.54417133331298" in result.stdout, result.stderr
    assert result.exit_code == 0 and not result.timed_out
    outcome = json.loads(result.outcome_raw)
    assert outcome["status"] == "ok" and outcome["backward_calls"] == 300


@pytest.mark.slow
def test_a_forked_worker_starts_a_fork_server_of_its_own(fake_harness, forkserver_sandbox):
    parent_server = forkserver_sandbox.server_pid
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # a prefork pool's child: the sandbox object came with it, the fork server did not
        try:
            result = run(forkserver_sandbox, "print('from the child')")
            os.write(write_end, json.dumps([result.stdout, forkserver_sandbox.server_pid]).encode())
            forkserver_sandbox.close()  # the child's own fork server; the parent's is untouched
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as f:
        stdout, child_server = json.loads(f.read())
    os.waitpid(child, 0)
    assert stdout == "from the child\n"
    assert child_server != parent_server
    assert run(forkserver_sandbox, "print('parent still served')").stdout == "parent still served\n"
    assert forkserver_sandbox.server_pid == parent_server


def test_a_host_without_user_namespaces_is_told_to_use_docker(monkeypatch):
    import worker.sandbox as sandbox_package

    monkeypatch.setattr(sandbox_package, "user_namespace_error",
                        lambda: "unshare(CLONE_NEWUSER) failed: Operation not permitted")
    with pytest.raises(sandbox_package.SandboxUnavailable, match="user namespaces are disabled.*--sandbox docker"):
        sandbox_package.check_user_namespaces()
