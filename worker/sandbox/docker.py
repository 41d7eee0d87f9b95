"""DockerSandbox: one `docker run` per job, for hosts without user namespaces.

The image (env BPG_SANDBOX_IMAGE, default backprop-grader-worker:latest) must hold python with torch,
numpy and matplotlib on PATH, the harness at /opt/harness/harness.py, a user 1000 and /bin/sh.

How the outcome gets out: docker passes only stdin, stdout and stderr. Inside the container a shell runs
the harness with `--outcome-fd 3` pointed at a file in the container's /tmp, then prints a line holding a
random per-job boundary and the file after it on stdout:

    <student's stdout> \\n <boundary> \\n <outcome JSON>

The worker splits stdout at the last boundary. A student who reads the boundary (it is in the shell's
command line) can print a fake outcome, but student code can write fd 3 anyway; the outcome is untrusted
by design and no reference value ever enters the sandbox.
"""
from __future__ import annotations

import json
import os
import resource
import secrets
import subprocess
import time

from . import outputs, rootfs, rlimits
from .base import Job, Limits, SandboxResult, SandboxUnavailable

IMAGE_ENV = "BPG_SANDBOX_IMAGE"
DEFAULT_IMAGE = "backprop-grader-worker:latest"
RUNTIME_RSS_MB = 512  # resident memory of python + torch + numpy + matplotlib, on top of memory_mb
OUTCOME_FILE = "/tmp/.outcome"
_SCRIPT = (
    f'python -I -u {rootfs.HARNESS_INSIDE} --outcome-fd 3 3>{OUTCOME_FILE}; code=$?; '
    f'printf "\\n%s\\n" "$0"; cat {OUTCOME_FILE} 2>/dev/null; exit $code'
)


class DockerSandbox:
    """Runs each job in a throwaway container with no network, no capabilities and a read-only root."""

    name = "docker"

    def __init__(self, image: str | None = None, *, docker: str = "docker"):
        self.image = image or os.environ.get(IMAGE_ENV) or DEFAULT_IMAGE
        self.docker = docker

    def close(self) -> None:
        pass

    def __enter__(self) -> "DockerSandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def command(self, job: Job, limits: Limits, *, container: str | None = None,
                boundary: str | None = None) -> list[str]:
        """The `docker run` command line for one job; its JSON goes to the container's stdin."""
        container = container or f"bpg-job-{secrets.token_hex(8)}"
        boundary = boundary or f"--bpg-outcome-{secrets.token_hex(16)}--"
        memory = f"{limits.memory_mb + RUNTIME_RSS_MB}m"
        disk = f"{limits.disk_mb}m"
        cpu_soft, cpu_hard = rlimits.cpu_limits(limits)
        limit_values = rlimits.job_rlimits(limits)
        nofile = limit_values[resource.RLIMIT_NOFILE][0]
        fsize = limit_values[resource.RLIMIT_FSIZE][0]
        args = [
            self.docker, "run", "--rm", "-i", "--name", container, "--pull", "never",
            "--network", "none", "--ipc", "private", "--read-only", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--pids-limit", str(limits.processes),
            "--memory", memory, "--memory-swap", memory, "--cpus", "1",
            "--ulimit", f"cpu={cpu_soft}:{cpu_hard}", "--ulimit", f"nofile={nofile}:{nofile}",
            "--ulimit", f"fsize={fsize}:{fsize}", "--ulimit", "core=0:0",
            "--tmpfs", f"{rootfs.HOME}:size={disk},exec,mode=0755,uid={rootfs.JOB_UID},gid={rootfs.JOB_UID}",
            "--tmpfs", f"/tmp:size={disk}", "--shm-size", disk,
            "--workdir", rootfs.HOME, "--user", f"{rootfs.JOB_UID}:{rootfs.JOB_UID}",
            "--hostname", "sandbox", "--log-driver", "none",
        ]
        for key, value in rootfs.JOB_ENV.items():
            args += ["--env", f"{key}={value}"]
        args += [self.image, "/bin/sh", "-c", _SCRIPT, boundary]
        return args

    def run(self, job: Job, limits: Limits) -> SandboxResult:
        started = time.monotonic()
        container = f"bpg-job-{secrets.token_hex(8)}"
        boundary = f"--bpg-outcome-{secrets.token_hex(16)}--"
        job_fd = os.memfd_create("job", os.MFD_CLOEXEC)
        out_r, out_w = outputs.make_pipe()
        err_r, err_w = outputs.make_pipe()
        try:
            os.write(job_fd, json.dumps(job.as_message()).encode())
            os.lseek(job_fd, 0, os.SEEK_SET)
            try:
                proc = subprocess.Popen(self.command(job, limits, container=container, boundary=boundary),
                                        stdin=job_fd, stdout=out_w, stderr=err_w, close_fds=True)
            except OSError as exc:
                os.close(out_r)
                os.close(err_r)
                raise SandboxUnavailable(f"docker could not be started: {exc}") from exc
        finally:
            for fd in (job_fd, out_w, err_w):
                os.close(fd)

        def kill() -> None:
            subprocess.run([self.docker, "kill", container], capture_output=True, timeout=30)
            proc.kill()

        # The head holds the student's share and a small outcome; past the cap, the framed outcome is
        # found in the tail.
        cap = limits.output_kb * 1024
        frame_room = limits.outcome_kb * 1024 + len(boundary) + 2
        drained = outputs.drain(
            {"stdout": (out_r, cap + frame_room, frame_room), "stderr": (err_r, cap)},
            wall_seconds=limits.wall_seconds + 5.0, kill=kill)  # + container start
        code = proc.wait()
        out = drained.buffers["stdout"]
        stdout, outcome = split_outcome(bytes(out.data), boundary)
        if out.truncated:
            stdout, (_, outcome) = bytes(out.data), split_outcome(bytes(out.tail), boundary)
        if code == 125 and outcome is None:  # docker's own failure (no image, no engine)
            raise SandboxUnavailable(f"docker could not run the job: {drained.buffers['stderr'].text()[:500]}")
        return SandboxResult(
            outcome_raw=outcome[: limits.outcome_kb * 1024] if outcome is not None else None,
            stdout=outputs.decode_head(stdout[:cap], cut=len(stdout) > cap or out.truncated),
            stderr=drained.buffers["stderr"].text(),
            exit_code=code if code >= 0 else None,
            signal=-code if code < 0 else None,
            timed_out=drained.timed_out,
            stdout_truncated=len(stdout) > cap or out.truncated,
            stderr_truncated=drained.buffers["stderr"].truncated,
            outcome_truncated=outcome is not None and len(outcome) > limits.outcome_kb * 1024,
            wall_seconds=time.monotonic() - started,
            backend=self.name,
        )


def split_outcome(stdout: bytes, boundary: str) -> tuple[bytes, bytes | None]:
    """Student stdout and the outcome framed after the last boundary line (None if there is none)."""
    marker = b"\n" + boundary.encode() + b"\n"
    at = stdout.rfind(marker)
    if at < 0:
        return stdout, None
    return stdout[:at], stdout[at + len(marker):]
