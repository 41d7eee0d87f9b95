"""The interface every sandbox backend implements, and the values that cross it."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# The harness runs inside the sandbox; backends load it by file path so that nothing
# of the `grader` package (which can reach secrets) is ever imported there.
HARNESS_PATH = Path(__file__).resolve().parent.parent / "harness.py"


class SandboxUnavailable(RuntimeError):
    """This host cannot run the chosen backend; the message names the fallback."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one job. Defaults match the spec format's `limits:` block."""

    wall_seconds: float = 30.0
    cpu_seconds: int = 20
    memory_mb: int = 1024
    output_kb: int = 256  # per stream (stdout, stderr)
    processes: int = 64
    open_files: int = 128
    disk_mb: int = 16  # size of the writable /home/student tmpfs
    outcome_kb: int = 4096  # cap on the outcome JSON read back from the harness

    def replace(self, **changes) -> "Limits":
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Job:
    """What one sandboxed run needs: the student's source and the harness plan (JSON-able)."""

    source: str
    plan: dict
    filename: str = "submission.py"

    def as_message(self) -> dict:
        """The job as the harness receives it (see worker/harness.py: run_job)."""
        return {"source": self.source, "filename": self.filename, "plan": self.plan}


@dataclass
class SandboxResult:
    """What came back from one run. Everything here is untrusted student output."""

    outcome_raw: bytes | None  # bytes read from the outcome channel, None if nothing came
    stdout: str
    stderr: str
    exit_code: int | None = None  # exit status of the job's init process
    signal: int | None = None  # signal that ended it, if any
    timed_out: bool = False  # killed by the wall clock
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    outcome_truncated: bool = False
    wall_seconds: float = 0.0
    backend: str = ""


class Sandbox(Protocol):
    """A backend: runs jobs until closed. One instance may serve many jobs."""

    name: str

    def run(self, job: Job, limits: Limits) -> SandboxResult: ...

    def close(self) -> None: ...
