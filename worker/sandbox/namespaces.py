"""Entering the job's namespaces and mapping its uid, which takes the child and the fork server together."""
from __future__ import annotations

import os
import subprocess
import sys

from . import syscalls
from .rootfs import JOB_UID

NAMESPACES = (
    syscalls.CLONE_NEWUSER
    | syscalls.CLONE_NEWNS
    | syscalls.CLONE_NEWNET
    | syscalls.CLONE_NEWIPC
    | syscalls.CLONE_NEWUTS
    | syscalls.CLONE_NEWPID
    | syscalls.CLONE_NEWCGROUP
)
# Each job gets two host uids of its own: UID_BASE + 2*keeper_pid for root inside its namespace (owner of
# the skeleton of its root filesystem) and the next one for the job itself. The keeper's pid is unique
# while the job lives, nothing on the host owns these uids, and RLIMIT_NPROC counts one job's processes.
UID_BASE = 200_000
HOSTNAME = "sandbox"


def enter_namespaces() -> None:
    """unshare() into fresh user, mount, net, IPC, UTS, cgroup and pid namespaces (pid: for children)."""
    syscalls.unshare(NAMESPACES)


def id_map(keeper_pid: int) -> list[tuple[int, int]]:
    """(inside, host) id pairs for a job. An unprivileged fork server can map only its own uid, as 0."""
    if os.geteuid() != 0:
        return [(0, os.geteuid())]
    base = UID_BASE + 2 * keeper_pid
    return [(0, base), (JOB_UID, base + 1)]


def job_uid_inside(privileged: bool) -> int:
    return JOB_UID if privileged else 0


def write_id_maps(pid: int, mapping: list[tuple[int, int]]) -> None:
    """Write the job's uid and gid maps; only a process outside the namespace, as root, may map any uid."""
    lines = "".join(f"{inside} {host} 1\n" for inside, host in mapping)
    with open(f"/proc/{pid}/setgroups", "w") as f:
        f.write("deny")
    with open(f"/proc/{pid}/uid_map", "w") as f:
        f.write(lines)
    with open(f"/proc/{pid}/gid_map", "w") as f:
        f.write(lines)


def become_namespace_root() -> None:
    """Take uid/gid 0 of the new namespace (keeping its capabilities) so that files made now are owned by it."""
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)


_PROBE = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x10000000) != 0:
    sys.stdout.write(os.strerror(ctypes.get_errno()))
    sys.exit(1)
"""


def user_namespace_error() -> str | None:
    """None if this host lets us create a user namespace, else why not (probed in a throwaway process)."""
    reasons = []
    try:
        with open("/proc/sys/user/max_user_namespaces") as f:
            if int(f.read()) == 0:
                reasons.append("user.max_user_namespaces is 0")
    except (OSError, ValueError):
        pass
    try:
        probe = subprocess.run(
            [sys.executable, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=30,
            env={"PATH": "/usr/bin:/bin"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"probe failed: {exc}"
    if probe.returncode == 0:
        return None
    reasons.insert(0, f"unshare(CLONE_NEWUSER) failed: {probe.stdout.strip() or probe.stderr.strip()}")
    return "; ".join(reasons)
