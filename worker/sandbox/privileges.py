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
# A job still running after LONG_JOB_SECONDS is a long one (an endless loop, a 10,000-epoch run): it drops to
# the lowest priority, so a fresh job on a spare worker process runs at nearly full speed beside it (CFS
# weights: nice 10 gets about 7 times the CPU of nice 19) and one student's loop never holds up another's
# seed homework. The seed homework takes about 0.2 s; lectures 5-7 about 1 s on this project's CI machine.
LONG_JOB_SECONDS = 2.0
LONG_JOB_NICE = 19
JOB_OOM_SCORE_ADJ = 1000


def demote_job(init_pid: int, proc: int) -> None:
    """Lower the whole job to LONG_JOB_NICE: every thread of init and of every process under it (a daemon that
    left its session is still init's: init reaps the orphans of its pid namespace). `proc` is a directory fd
    of the host's /proc, opened before init's pivot_root gave the keeper's mount namespace the job's root. A
    process forked meanwhile inherits its parent's nice; a second pass catches one forked by a parent not yet
    lowered. Raising nice needs no privilege beyond the keeper's capabilities in the job's user namespace."""
    for _ in range(2):
        for pid in _descendants(init_pid, proc):
            for tid in _listing(f"{pid}/task", proc):
                try:
                    os.setpriority(os.PRIO_PROCESS, int(tid), LONG_JOB_NICE)
                except (OSError, ValueError):  # gone meanwhile
                    pass


def _descendants(root: int, proc: int) -> list[int]:
    """`root` and every process under it (host pids: the keeper is outside the job's pid namespace)."""
    children: dict[int, list[int]] = {}
    for entry in _listing(".", proc):
        if entry.isdigit():
            try:
                fd = os.open(f"{entry}/stat", os.O_RDONLY, dir_fd=proc)
                try:
                    stat = os.read(fd, 4096)
                finally:
                    os.close(fd)
                ppid = int(stat.rsplit(b")", 1)[1].split()[1])  # after the command, which may hold ")"
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _listing(path: str, proc: int) -> list[str]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY, dir_fd=proc)
    except OSError:
        return []
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)


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
