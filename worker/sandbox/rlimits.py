"""The resource limits of one job, as setrlimit values; applied in the job's init process or before exec."""
from __future__ import annotations

import resource

from .base import Limits

MiB = 1024 * 1024
# RLIMIT_AS counts address space, not memory in use. A process that imported torch, numpy and matplotlib
# maps about 640-680 MiB before doing anything (measured on the seed homework; the fork server's children
# inherit the same mappings). memory_mb is what the student's code gets on top of that runtime.
RUNTIME_AS_MB = 1024


# the hard CPU limit's SIGKILL comes this long after the soft limit's SIGXCPU, which the harness catches to
# report "used its N s of CPU time" with what ran so far (a script that ignores SIGXCPU is killed at the hard one)
CPU_GRACE_SECONDS = 2


def cpu_limits(limits: Limits) -> tuple[int, int]:
    """(soft, hard) RLIMIT_CPU seconds of one job."""
    cpu = max(1, int(limits.cpu_seconds))
    return cpu, cpu + CPU_GRACE_SECONDS


def job_rlimits(limits: Limits) -> dict[int, tuple[int, int]]:
    address_space = (limits.memory_mb + RUNTIME_AS_MB) * MiB
    file_size = limits.disk_mb * MiB
    return {
        # SIGXCPU at the soft limit reaches the harness's handler (PID 1 of its namespace ignores only the
        # signals it has no handler for); SIGKILL at the hard one
        resource.RLIMIT_CPU: cpu_limits(limits),
        resource.RLIMIT_AS: (address_space, address_space),
        resource.RLIMIT_NPROC: (limits.processes, limits.processes),  # threads count too
        resource.RLIMIT_NOFILE: (limits.open_files, limits.open_files),
        resource.RLIMIT_FSIZE: (file_size, file_size),
        resource.RLIMIT_CORE: (0, 0),
        resource.RLIMIT_MEMLOCK: (0, 0),
        resource.RLIMIT_MSGQUEUE: (0, 0),
        # no way back up once demoted (privileges.demote_job): nice may only be raised
        resource.RLIMIT_NICE: (0, 0),
    }


def apply(rlimits: dict[int, tuple[int, int]]) -> None:
    for which, value in rlimits.items():
        resource.setrlimit(which, value)
