"""The two processes the fork server makes per job: the keeper (outside the job's pid namespace) and the
job's init (PID 1 inside it, where the harness runs the student's script).

fork server ─fork→ keeper: setsid, unshare(user, mount, net, ipc, uts, cgroup, pid); the fork server
                   writes its uid/gid maps;
                   ─fork→ init (PID 1), which waits for the job.
Both are made ahead of their job (a spare), so that neither fork of this large process is paid while a
submission waits. The job's limits and pipes reach the keeper on its channel from the fork server; the
keeper passes them on to init, which builds the root, drops to the job uid, rlimits, seccomp, harness.
The keeper waits for init, kills it (SIGCONT, SIGKILL) when the worker asks or goes away, and writes
init's exit status to the status pipe. Killing init ends its pid namespace and so every process the
job started, daemons included.
"""
from __future__ import annotations

import fcntl
import io
import json
import os
import select
import signal
import sys
from dataclasses import dataclass
from typing import Any

import socket

from . import namespaces, privileges, protocol, rlimits, rootfs, seccomp, syscalls
from .base import Limits

SETUP_FAILED = 125  # init's exit code when the sandbox could not be built (the message is on the status pipe)
OUTCOME_FD = 3
BACKSTOP_SECONDS = 30.0  # the keeper's own limit on top of the wall clock, should the worker hang
_HIGH_FD = 200

# Stream objects of the fork server that the job's init replaces. They are kept alive so that their
# finalizers never close fds 0-2, which by then belong to the job.
_REPLACED_STREAMS: list[Any] = []


@dataclass
class ServerContext:
    """What the fork server prepared once, for every job: the harness, the layout, the seccomp filter."""

    harness: Any
    layout: rootfs.RootLayout
    syscall_filter: Any
    last_cap: int
    server_pid: int
    privileged: bool  # running as host root: each job gets host uids of its own


@dataclass
class JobPipes:
    """Write ends for the job (stdout, stderr, outcome), the keeper's status pipe and its kill pipe, and the
    memfd holding the job (read by init alone: the fork server never sees a submission)."""

    stdout: int
    stderr: int
    outcome: int
    status: int
    kill: int
    job: int

    @classmethod
    def from_fds(cls, fds: list[int]) -> "JobPipes":
        return cls(*fds)

    def all(self) -> list[int]:
        return [self.stdout, self.stderr, self.outcome, self.status, self.kill, self.job]


def _write_status(fd: int, record: dict) -> None:
    try:
        os.write(fd, json.dumps(record).encode() + b"\n")
    except OSError:
        pass


JOB_STARTED = b"s"  # the answer on a channel once the job is taken (init to keeper, keeper to fork server)
HANDOVER_SECONDS = 10.0


def run_keeper(ctx: ServerContext, channel_fd: int, sync_w: int, go_r: int, disk_mb: int) -> None:
    """Body of the keeper process; never returns. It enters the namespaces and forks the job's init first,
    then waits on its channel for one job (its limits, and the pipes of JobPipes as fds) and hands it to
    init; a closed channel ends both unused."""
    code = 1
    try:
        _close_all_but({channel_fd, sync_w, go_r})
        os.setsid()  # no controlling terminal: TIOCSTI has nothing to push into
        syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != ctx.server_pid:
            os._exit(1)
        if ctx.privileged:
            os.setgroups([])  # setgroups is denied inside; leave no host group behind
        try:
            namespaces.enter_namespaces()
        except OSError as exc:
            os.write(sync_w, b"!" + str(exc).encode())
            os._exit(1)
        os.write(sync_w, b"u")
        if os.read(go_r, 1) != b"g":
            os._exit(1)
        os.close(sync_w)
        os.close(go_r)
        to_init, init_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        # the host's /proc, for demoting a long job: init's pivot_root gives this mount namespace the job's root
        proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        init_pid = os.fork()
        if init_pid == 0:
            os.close(proc)  # never the job's
            os.close(channel_fd)
            to_init.close()
            run_init(ctx, init_end.detach(), disk_mb)
        init_end.close()
        channel = socket.socket(fileno=channel_fd)
        try:
            request, fds = protocol.recv(channel)
        except (protocol.ConnectionClosed, OSError, ValueError):
            os._exit(0)  # a spare the fork server no longer needs; init sees its channel close and ends too
        if len(fds) != len(JobPipes.__dataclass_fields__):
            os._exit(1)
        limits, pipes = Limits(**request["limits"]), JobPipes.from_fds(fds)
        # init confirms it has the job: one that died waiting must not pass for a job killed by signal 9
        protocol.send(to_init, request, fds)
        to_init.settimeout(HANDOVER_SECONDS)
        if to_init.recv(1) != JOB_STARTED:
            os._exit(1)  # no JOB_STARTED for the fork server, which retries with a fresh keeper
        to_init.close()
        channel.sendall(JOB_STARTED)
        channel.close()
        for fd in (pipes.stdout, pipes.stderr, pipes.outcome, pipes.job):
            os.close(fd)
        _write_status(pipes.status, _supervise(init_pid, pipes.kill, limits.wall_seconds + BACKSTOP_SECONDS, proc))
        code = 0
    finally:
        os._exit(code)


def _supervise(init_pid: int, kill_fd: int, backstop: float, proc: int) -> dict:
    """Wait for init; kill it on a byte or EOF on the kill pipe, or at the backstop. A job still running after
    privileges.LONG_JOB_SECONDS is demoted to the lowest priority first."""
    pidfd = os.pidfd_open(init_pid)
    ready, _, _ = select.select([pidfd, kill_fd], [], [], min(backstop, privileges.LONG_JOB_SECONDS))
    if not ready:
        privileges.demote_job(init_pid, proc)  # a /proc it cannot read demotes nothing: it never raises
        ready, _, _ = select.select([pidfd, kill_fd], [], [], max(0.0, backstop - privileges.LONG_JOB_SECONDS))
    killed = None
    if pidfd not in ready:
        killed = "worker" if kill_fd in ready else "backstop"
        # A stopped process may not act on SIGKILL inside a namespace until continued (nsjail does the same).
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.kill(init_pid, sig)
            except ProcessLookupError:
                pass
    _, status = os.waitpid(init_pid, 0)
    record = {"killed": killed}
    if os.WIFSIGNALED(status):
        record["signal"] = os.WTERMSIG(status)
    else:
        record["exit_code"] = os.WEXITSTATUS(status)
    return record


def _close_all_but(keep: set[int]) -> None:
    start = 3
    for fd in sorted(keep):
        if fd >= start:
            os.closerange(start, fd)
            start = fd + 1
    os.closerange(start, 1 << 20)


def _fresh_std_streams() -> None:
    """Line-buffered text streams on fds 1 and 2: a killed job still shows every line it finished, at one
    write per line (write_through would cost one write per print() argument)."""
    for name in ("stdout", "stderr", "__stdout__", "__stderr__"):
        _REPLACED_STREAMS.append(getattr(sys, name))
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8",
                                  errors="backslashreplace", line_buffering=True)
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    _REPLACED_STREAMS.append(sys.stdin)
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")


def _build_root(ctx: ServerContext, disk_mb: int) -> str | None:
    """The job's root, built before the job comes; None, or why it could not be (told on the job's status
    pipe once there is one)."""
    try:
        # Open what gets bound while still host root (it can cross /root, mode 0700), in this mount
        # namespace (a bind's source must be a mount of the caller's namespace); then become root of
        # the job's namespace, whose uid is mapped, so that the skeleton can be created.
        sources = rootfs.open_sources(ctx.layout)
        namespaces.become_namespace_root()
        rootfs.build_root(ctx.layout, sources, disk_mb=disk_mb, owner=namespaces.job_uid_inside(ctx.privileged))
        syscalls.sethostname(namespaces.HOSTNAME)
    except BaseException as exc:  # noqa: BLE001 - a sandbox failure, reported with the job
        return f"{type(exc).__name__}: {exc}"
    return None


def run_init(ctx: ServerContext, channel_fd: int, disk_mb: int) -> None:
    """Body of the job's init process (PID 1 of its namespace); never returns. Builds the root (its tmpfs
    dirs sized `disk_mb`, the last job's size), waits on its channel from the keeper for the job's limits
    and pipes, then finishes the sandbox and runs the harness."""
    syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
    root_problem = _build_root(ctx, disk_mb)
    channel = socket.socket(fileno=channel_fd)
    try:
        request, fds = protocol.recv(channel)
        limits, pipes = Limits(**request["limits"]), JobPipes.from_fds(fds)
    except (protocol.ConnectionClosed, OSError, ValueError, TypeError, KeyError):
        os._exit(0)  # the keeper went away before a job came, or sent no job
    channel.sendall(JOB_STARTED)
    channel.close()
    status_fd = pipes.status
    try:
        with open(pipes.job, "rb") as f:  # closes the memfd
            job = json.loads(f.read())
        os.close(pipes.kill)
        if root_problem:
            raise OSError(root_problem)
        if limits.disk_mb != disk_mb:
            rootfs.resize_tmpfs(ctx.layout, limits.disk_mb)
        job_uid = namespaces.job_uid_inside(ctx.privileged)
        privileges.drop_to_job_user(job_uid, ctx.last_cap)
        # fds: 0 = /dev/null, 1 = stdout, 2 = stderr, 3 = outcome, and nothing else once the status
        # pipe (kept until the last moment to report a failure) is closed.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, _HIGH_FD)
                for fd in (pipes.stdout, pipes.stderr, pipes.outcome, status_fd)]
        status_fd = high[3]
        devnull = os.open("/dev/null", os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(high[0], 1)
        os.dup2(high[1], 2)
        os.dup2(high[2], OUTCOME_FD)
        _close_all_but({OUTCOME_FD, status_fd})
        os.chdir(rootfs.HOME)
        os.umask(0o022)
        os.environ.clear()
        os.environ.update(rootfs.JOB_ENV)
        privileges.yield_to_the_worker()
        rlimits.apply(rlimits.job_rlimits(limits))
        seccomp.load(ctx.syscall_filter)
        _fresh_std_streams()
    except BaseException as exc:  # noqa: BLE001 - anything here is a sandbox failure, reported as such
        _write_status(status_fd, {"setup_error": f"{type(exc).__name__}: {exc}"})
        os._exit(SETUP_FAILED)
    os.close(status_fd)
    try:
        ctx.harness.run_job(job, OUTCOME_FD)
    finally:
        os._exit(1)
