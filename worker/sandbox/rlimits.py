"""The resource limits of one job, as setrlimit values; applied in the job's init process or before exec."""
from __future__ import annotations

import resource

from .base import Limits

MiB = 1024 * 1024
# RLIMIT_AS counts address space, not memory in use. A process that imported torch, numpy and matplotlib
# maps about 640-680 MiB before doing anything (measured on the seed homework; the fork server's children
# inherit the same mappings). memory_mb is what the student's code gets on top of that runtime.
RUNTIME_AS_MB = 1024


def job_rlimits(limits: Limits) -> dict[int, tuple[int, int]]:
    cpu = max(1, int(limits.cpu_seconds))
    address_space = (limits.memory_mb + RUNTIME_AS_MB) * MiB
    file_size = limits.disk_mb * MiB
    return {
        # soft == hard: SIGKILL at the limit. (A soft limit's SIGXCPU would not reach the job anyway: the
        # init of a pid namespace ignores signals it has no handler for.)
        resource.RLIMIT_CPU: (cpu, cpu),
        resource.RLIMIT_AS: (address_space, address_space),
        resource.RLIMIT_NPROC: (limits.processes, limits.processes),  # threads count too
        resource.RLIMIT_NOFILE: (limits.open_files, limits.open_files),
        resource.RLIMIT_FSIZE: (file_size, file_size),
        resource.RLIMIT_CORE: (0, 0),
        resource.RLIMIT_MEMLOCK: (0, 0),
        resource.RLIMIT_MSGQUEUE: (0, 0),
    }


def apply(rlimits: dict[int, tuple[int, int]]) -> None:
    for which, value in rlimits.items():
        resource.setrlimit(which, value)
