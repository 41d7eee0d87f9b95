"""Dropping everything the job's init process still holds: its ids, capabilities, and the right to gain more."""
from __future__ import annotations

import os
import signal

from . import syscalls


def drop_to_job_user(uid: int, last_cap: int) -> None:
    """Become `uid` with no capabilities in any set, no way back, and no_new_privs."""
    syscalls.drop_bounding_set(last_cap)
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    # setuid() away from 0 clears the capability sets, but not when the job stays uid 0 of its namespace
    # (unprivileged fork server): clear them explicitly either way.
    syscalls.clear_capabilities()
    syscalls.prctl(syscalls.PR_SET_NO_NEW_PRIVS, 1)
    # A change of credentials resets the parent-death signal, and makes the process non-dumpable, which
    # leaves /proc/self/{environ,maps,...} owned by host root (the fork server's mm was made outside the
    # namespace). The job may read its own /proc; other uids could not, and ptrace is denied anyway.
    syscalls.prctl(syscalls.PR_SET_PDEATHSIG, signal.SIGKILL)
    syscalls.prctl(syscalls.PR_SET_DUMPABLE, 1)


JOB_NICE = 10
JOB_OOM_SCORE_ADJ = 1000


def yield_to_the_worker() -> None:
    """Student code never inherits a worker's real-time policy or priority: it runs below the worker, and it
    is what the kernel's OOM killer takes first."""
    os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    os.setpriority(os.PRIO_PROCESS, 0, JOB_NICE)
    # RLIMIT_AS caps each process, not their sum: a job's processes together may map more than the host
    # has. Should they fill memory, a job's process must be the one killed, never the worker. (Raising
    # one's own oom_score_adj needs no privilege; children inherit it.)
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write(str(JOB_OOM_SCORE_ADJ))
