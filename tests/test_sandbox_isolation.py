"""What a job can see and do, checked the same way on the fork server and on bwrap: real runs, no mocks."""
from __future__ import annotations

import json
import os
import socket
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

from worker.sandbox import Job, Limits
from sandbox_helpers import bind_entries_under, bind_entries_under_root


@pytest.fixture(params=["forkserver", "bwrap"])
def sandbox(request):
    return request.getfixturevalue(f"{request.param}_sandbox")


def run(sandbox, source: str, **limits):
    return sandbox.run(Job(textwrap.dedent(source), plan={}), Limits(**limits))


REPO = Path(__file__).resolve().parent.parent


def run_json(sandbox, source: str, **limits) -> dict:
    """Run a script whose last stdout line is JSON; return it."""
    result = run(sandbox, source, **limits)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_normal_script_runs_and_its_output_and_outcome_come_back(sandbox):
    result = run(sandbox, "print('hello from the sandbox')\nimport sys; print('to stderr', file=sys.stderr)")
    assert result.stdout == "hello from the sandbox\n"
    assert result.stderr == "to stderr\n"
    assert json.loads(result.outcome_raw) == {"status": "ok", "detail": None}
    assert result.exit_code == 0 and result.signal is None and not result.timed_out
    assert result.backend == sandbox.name


def test_the_job_is_pid_1_of_its_namespace_and_not_root(sandbox):
    info = run_json(sandbox, """
        import json, os, socket
        status = dict(line.split(":", 1) for line in open("/proc/self/status"))
        print(json.dumps({"pid": os.getpid(), "uid": os.getuid(), "gid": os.getgid(),
                          "groups": os.getgroups(), "hostname": socket.gethostname(),
                          "cwd": os.getcwd(), "caps": status["CapEff"].strip(),
                          "bounding": status["CapBnd"].strip(), "nnp": status["NoNewPrivs"].strip(),
                          "seccomp": status["Seccomp"].strip(), "pids": sorted(
                              p for p in os.listdir("/proc") if p.isdigit())}))
    """)
    assert info["pid"] == 1
    assert info["uid"] == 1000 and info["gid"] == 1000 and info["groups"] == []
    assert info["caps"] == info["bounding"] == "0000000000000000"
    assert info["nnp"] == "1" and info["seccomp"] == "2"
    assert info["hostname"] == "sandbox"
    assert info["cwd"] == "/home/student"
    assert info["pids"] == ["1"]  # no process of the host, or of another job, is visible


def test_host_files_are_not_visible(sandbox):
    with tempfile.NamedTemporaryFile(dir="/tmp", prefix="bpg-host-secret-") as secret:
        seen = run_json(sandbox, f"""
            import json, os
            def listing(path):
                try:
                    return sorted(os.listdir(path))
                except OSError as exc:
                    return type(exc).__name__
            paths = ["/etc/passwd", "/etc/shadow", "/etc/hostname", "/work/shared", {str(REPO / "worker")!r},
                     {str(REPO / "grader")!r}, {str(REPO / "pyproject.toml")!r}, "/root/.bashrc", "/var", "/sys",
                     "/run", {secret.name!r}, "/tmp/{os.path.basename(secret.name)}"]
            try:
                import grader.scoring
                grader_code = "importable"
            except ImportError:
                grader_code = "absent"
            print(json.dumps({{"exists": {{p: os.path.exists(p) for p in paths}}, "grader": grader_code,
                              "root": listing("/root"), "work": listing("/work"), "etc": listing("/etc"),
                              "tmp": listing("/tmp"),
                              "top": listing("/")}}))
        """)
    assert not any(seen["exists"].values()), seen["exists"]
    assert seen["grader"] == "absent"
    # crossed to reach Python (and /etc/fonts), or absent where nothing bound lies below; never listed
    for top in ("root", "work", "etc"):
        assert seen[top] in ("PermissionError", "FileNotFoundError"), (top, seen[top])
    assert seen["etc"] == "PermissionError"  # /etc/fonts is always bound
    assert seen["tmp"] == bind_entries_under("/tmp")  # only the way to a venv that lives under /tmp
    # the system's own dirs, plus the first step of the path to the Python in use, wherever it was cloned
    assert set(seen["top"]) <= {"dev", "home", "opt", "proc", "tmp"} | bind_entries_under_root()


def test_the_job_cannot_write_outside_its_home_and_tmp(sandbox):
    outcome = run_json(sandbox, """
        import json, os, sys
        def try_write(path):
            try:
                with open(path, "w") as f:
                    f.write("x")
                return "written"
            except OSError as exc:
                return type(exc).__name__
        targets = ["/pwned", "/usr/pwned", "/opt/harness/harness.py", sys.prefix + "/pwned",
                   "/etc/pwned", "/proc/sys/kernel/hostname", "/home/student/ok.txt", "/tmp/ok.txt"]
        print(json.dumps({t: try_write(t) for t in targets}))
    """)
    assert outcome.pop("/home/student/ok.txt") == "written"
    assert outcome.pop("/tmp/ok.txt") == "written"
    assert "written" not in outcome.values(), outcome


def test_the_job_has_no_network(sandbox):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted = []
    job_done = threading.Event()

    def accept() -> None:
        while not job_done.is_set():
            try:
                accepted.append(listener.accept())
            except socket.timeout:
                continue

    watcher = threading.Thread(target=accept)
    watcher.start()
    try:
        outcome = run_json(sandbox, f"""
            import json, socket
            results = {{}}
            for host in ("127.0.0.1", "10.0.2.2", "8.8.8.8"):
                try:
                    socket.create_connection((host, {port}), timeout=2).close()
                    results[host] = "connected"
                except OSError as exc:
                    results[host] = type(exc).__name__
            interfaces = [line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:]]
            print(json.dumps({{"results": results, "interfaces": interfaces}}))
        """)
    finally:
        time.sleep(0.3)  # a connection would have arrived by now
        job_done.set()
        watcher.join()
        listener.close()
    assert "connected" not in outcome["results"].values(), outcome
    assert outcome["interfaces"] == ["lo"]
    assert accepted == []


def test_stdin_is_empty_and_only_the_expected_fds_are_open(sandbox):
    outcome = run_json(sandbox, """
        import json, os, sys
        fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
        print(json.dumps({"stdin": sys.stdin.read(), "fds": fds,
                          "stdin_target": os.readlink("/proc/self/fd/0")}))
    """)
    assert outcome["stdin"] == ""
    assert outcome["stdin_target"] == "/dev/null"
    # 0-2, the outcome fd, and the one listdir had open
    assert len(outcome["fds"]) == 5 and outcome["fds"][:3] == [0, 1, 2]


DENIED_CALLS = """
    import ctypes, errno, json
    libc = ctypes.CDLL(None, use_errno=True)
    def call(result):
        return errno.errorcode.get(ctypes.get_errno(), "?") if result == -1 else result
    print(json.dumps({
        "ptrace": call(libc.ptrace(0, 0, 0, 0)),
        "mount": call(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
        "unshare_user": call(libc.unshare(0x10000000)),
        "clone_newnet": call(libc.syscall(56, 0x40000000 | 17, 0, 0, 0, 0)),
        "clone3": call(libc.syscall(435, 0, 0)),
        "tiocsti": call(libc.ioctl(0, 0x5412, b"x")),
        "tiocsti_high_bits": call(libc.ioctl(0, ctypes.c_ulong(0x100005412), b"x")),
        "bpf": call(libc.syscall(321, 0, 0, 0)),
        "io_uring_setup": call(libc.syscall(425, 1, 0)),
        "keyctl": call(libc.syscall(250, 0, 0, 0, 0)),
        "no_aslr": call(libc.personality(0x0040000)),
        "personality_query": libc.personality(0xFFFFFFFF),
    }))
"""


def test_dangerous_syscalls_are_denied(sandbox):
    outcome = run_json(sandbox, DENIED_CALLS)
    assert outcome.pop("clone3") == "ENOSYS"  # so that glibc falls back to clone(), which we can filter
    assert outcome.pop("personality_query") == 0
    # unshare(CLONE_NEWUSER) and TIOCSTI on /dev/null would be allowed or ENOTTY without the filter
    assert outcome == {name: "EPERM" for name in outcome}, outcome


def test_forking_and_subprocesses_still_work(sandbox):
    result = run(sandbox, """
        import subprocess, sys
        print(subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True).stdout)
    """)
    assert result.stdout.strip() == "42", result.stderr
