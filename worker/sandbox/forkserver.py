"""ForkServerSandbox: the worker's side of the fork server. Starts it, sends it jobs, drains their pipes.

Per job the worker makes the pipes and passes their write ends (plus the read end of a kill pipe, and a
memfd holding the job) over the control socket; the fork server forks a keeper that builds the sandbox
(see jobchild.py). The worker alone reads the job's output, so the fork server never blocks on a job.
Closing the kill pipe, or writing to it, makes the keeper kill the job's whole pid namespace: if the
worker dies, its jobs die with it.
"""
from __future__ import annotations

import dataclasses
import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

from . import outputs, protocol
from .base import HARNESS_PATH, Job, Limits, SandboxResult, SandboxUnavailable

SERVER_SCRIPT = Path(__file__).with_name("_server_main.py")
START_SECONDS = 120.0  # importing torch takes 2-4 s here; a loaded host can take much longer
REPLY_SECONDS = 30.0
STATUS_CAP = 64 * 1024
FALLBACK_HINT = "use --sandbox bwrap or --sandbox docker"


class _ServerGone(Exception):
    """The fork server died or stopped answering; the job may be retried on a fresh one."""


def server_environment(mpl_config_dir: str) -> dict[str, str]:
    """The fork server's whole environment: no variable of the worker's (secrets live there) gets in."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/home/student",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": mpl_config_dir,  # the font cache is built once here and inherited by every job
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",  # else OpenBLAS starts a thread pool at import, and we fork
        "MKL_NUM_THREADS": "1",
    }


def private_dir(name: str) -> str:
    """A directory only this uid can use, reused across fork-server restarts."""
    path = os.path.join(tempfile.gettempdir(), f"{name}-{os.geteuid()}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        return tempfile.mkdtemp(prefix=f"{name}-")
    return path


def _stop(proc: subprocess.Popen | None, sock: socket.socket | None) -> None:
    if sock is not None:
        sock.close()  # EOF on the control socket: the fork server exits on its own
    if proc is not None and proc.poll() is None:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _job_over(buffers: dict, still_open: set[str]) -> bool:
    """The job's own pipes are at EOF (every process of its namespace is gone) and the keeper has written its
    final record: the result is complete. The keeper's exit (its address space, its namespaces) is not waited
    for; the fork server reaps it."""
    if still_open != {"status"}:
        return False
    data = buffers["status"].data
    return data.endswith(b"\n") and any("killed" in r for r in _status_records(bytes(data)))


def _status_records(data: bytes) -> list[dict]:
    """The JSON lines the keeper and the job's init wrote before any student code ran."""
    records = []
    for line in data.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


class ForkServerSandbox:
    """Runs each job in a fresh set of namespaces forked from a warm, torch-loaded fork server."""

    name = "forkserver"

    def __init__(self, harness_path: str | os.PathLike = HARNESS_PATH, *, python: str = sys.executable,
                 start_seconds: float = START_SECONDS, debug: bool = False):
        self.harness_path = Path(harness_path).resolve()
        self._python = python
        self._start_seconds = start_seconds
        self._debug = debug
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._finalizer = None
        self._owner_pid = os.getpid()
        self.server_info: dict = {}
        self.starts = 0

    # --- the fork server process -------------------------------------------------------------

    @property
    def restarts(self) -> int:
        """How many times the fork server was found dead and started again."""
        return max(0, self.starts - 1)

    @property
    def server_pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def start(self) -> None:
        """Start the fork server now rather than on the first job (it takes seconds: it imports torch)."""
        with self._lock:
            self._ensure_server()

    def _ensure_server(self) -> None:
        if self._owner_pid != os.getpid():
            # We were forked (a prefork worker pool): the fork server belongs to the parent. Drop our
            # copy of its socket and start one of our own.
            if self._finalizer is not None:
                self._finalizer.detach()
            if self._sock is not None:
                self._sock.close()
            self._proc = self._sock = self._finalizer = None
            self._owner_pid = os.getpid()
            self.starts = 0
        if self._proc is not None and self._proc.poll() is None:
            return
        self._stop_server()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            proc = subprocess.Popen(
                [self._python, "-I", str(SERVER_SCRIPT), "--control-fd", str(child.fileno()),
                 "--harness", str(self.harness_path)],
                pass_fds=[child.fileno()], close_fds=True, cwd="/", start_new_session=True,
                env=server_environment(private_dir("bpg-forkserver-mpl")),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=None if self._debug else subprocess.DEVNULL,
            )
        finally:
            child.close()
        parent.settimeout(self._start_seconds)
        try:
            hello, _ = protocol.recv(parent)
        except (protocol.ConnectionClosed, OSError) as exc:
            _stop(proc, parent)
            raise SandboxUnavailable(f"the fork server did not start ({exc}, exit code {proc.poll()}); "
                                     f"{FALLBACK_HINT}") from exc
        if not hello.get("ready"):
            _stop(proc, parent)
            raise SandboxUnavailable(f"the fork server failed to preload the harness:\n{hello.get('error')}")
        parent.settimeout(None)
        self._proc, self._sock, self.server_info = proc, parent, hello
        self.starts += 1
        self._finalizer = weakref.finalize(self, _stop, proc, parent)

    def _stop_server(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # runs _stop once
        self._proc = self._sock = self._finalizer = None

    def close(self) -> None:
        with self._lock:
            self._stop_server()

    def __enter__(self) -> "ForkServerSandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- jobs ----------------------------------------------------------------------------------

    def run(self, job: Job, limits: Limits) -> SandboxResult:
        """Run one job. A fork server found dead is restarted, and the job retried once."""
        with self._lock:
            failure = None
            for _attempt in range(2):
                self._ensure_server()
                try:
                    return self._run_once(job, limits)
                except _ServerGone as exc:
                    failure = exc
                    self._stop_server()
            raise SandboxUnavailable(f"the fork server died twice running one job ({failure}); {FALLBACK_HINT}")

    def _run_once(self, job: Job, limits: Limits) -> SandboxResult:
        started = time.monotonic()
        out_r, out_w = outputs.make_pipe()
        err_r, err_w = outputs.make_pipe()
        res_r, res_w = outputs.make_pipe()
        status_r, status_w = os.pipe2(os.O_CLOEXEC)
        kill_r, kill_w = os.pipe2(os.O_CLOEXEC)
        ours = [out_r, err_r, res_r, status_r, kill_w]
        # The job travels in a memfd that only its own init reads: the fork server never holds a submission,
        # so a later job cannot find an earlier one in the memory it inherits from the fork server.
        job_fd = os.memfd_create("job", os.MFD_CLOEXEC)
        with open(job_fd, "wb", closefd=False) as f:
            f.write(json.dumps(job.as_message()).encode())
        os.lseek(job_fd, 0, os.SEEK_SET)
        request = {"limits": dataclasses.asdict(limits)}
        try:
            self._sock.settimeout(REPLY_SECONDS)
            protocol.send(self._sock, request, [out_w, err_w, res_w, status_w, kill_r, job_fd])
            reply, _ = protocol.recv(self._sock)
        except (protocol.ConnectionClosed, OSError) as exc:
            for fd in ours:
                os.close(fd)
            raise _ServerGone(str(exc) or type(exc).__name__) from exc
        finally:
            for fd in (out_w, err_w, res_w, status_w, kill_r, job_fd):
                os.close(fd)
        if not reply.get("ok"):
            for fd in ours:
                os.close(fd)
            raise SandboxUnavailable(f"the fork server could not start the job: {reply.get('error')}; "
                                     f"{FALLBACK_HINT}")

        def kill() -> None:
            try:
                os.write(kill_w, b"k")
            except OSError:
                pass  # the keeper is already gone

        try:
            drained = outputs.drain(
                {"stdout": (out_r, limits.output_kb * 1024), "stderr": (err_r, limits.output_kb * 1024),
                 "outcome": (res_r, limits.outcome_kb * 1024), "status": (status_r, STATUS_CAP)},
                wall_seconds=limits.wall_seconds, kill=kill, finished=_job_over)
        finally:
            os.close(kill_w)
        records = _status_records(bytes(drained.buffers["status"].data))
        for record in records:
            if "setup_error" in record:
                raise SandboxUnavailable(f"the sandbox could not be set up: {record['setup_error']}; "
                                         f"{FALLBACK_HINT}")
        final = next((r for r in reversed(records) if "killed" in r), None)
        if final is None:
            if self._proc is None or self._proc.poll() is not None:
                raise _ServerGone("the fork server died during the job")
            raise SandboxUnavailable("the job's keeper process vanished without a status")
        buffers = drained.buffers
        outcome = buffers["outcome"]
        return SandboxResult(
            outcome_raw=bytes(outcome.data) if outcome.total else None,
            stdout=buffers["stdout"].text(),
            stderr=buffers["stderr"].text(),
            exit_code=final.get("exit_code"),
            signal=final.get("signal"),
            timed_out=drained.timed_out or final.get("killed") == "backstop",
            stdout_truncated=buffers["stdout"].truncated,
            stderr_truncated=buffers["stderr"].truncated,
            outcome_truncated=outcome.truncated,
            wall_seconds=time.monotonic() - started,
            backend=self.name,
        )
