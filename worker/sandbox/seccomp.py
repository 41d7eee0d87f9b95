"""The job's seccomp filter: allow by default, refuse the calls that reach the kernel's riskier corners.

The list starts from Flatpak's (common/flatpak-run.c) and adds debugging, BPF, perf, kexec, modules,
userfaultfd and io_uring. Filters for other architectures are not added, so a 32-bit syscall from this
64-bit process hits libseccomp's bad-arch action and the process is killed.
"""
from __future__ import annotations

import errno
import tempfile

import pyseccomp as sc

from . import syscalls

DENIED = (
    # seeing or changing other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    # filesystems and namespaces (the new mount API included)
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "open_by_handle_at", "name_to_handle_at", "quotactl", "quotactl_fd",
    # keyrings
    "keyctl", "add_key", "request_key",
    # kernel attack surface
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "syslog", "uselib", "acct", "modify_ldt", "vhangup", "reboot", "swapon", "swapoff",
    # NUMA placement
    "move_pages", "mbind", "get_mempolicy", "set_mempolicy", "migrate_pages", "set_mempolicy_home_node",
)
TIOCSTI = 0x5412  # push a character into a terminal's input
TIOCLINUX = 0x541C  # same, through the virtual console
# personality() flags that weaken the address-space defences: ADDR_NO_RANDOMIZE, MMAP_PAGE_ZERO,
# ADDR_COMPAT_LAYOUT, READ_IMPLIES_EXEC. Bit 31 is in the mask so that the query 0xffffffff still passes.
_WEAKENING_PERSONALITIES = (0x0040000, 0x0100000, 0x0200000, 0x0400000)
_PERSONALITY_QUERY_BIT = 0x80000000


def build_filter() -> sc.SyscallFilter:
    f = sc.SyscallFilter(sc.ALLOW)
    deny = sc.ERRNO(errno.EPERM)
    for name in DENIED:
        if sc.resolve_syscall(sc.Arch.NATIVE, name) < 0:
            continue  # this kernel/libseccomp does not know it, so nothing can call it either
        f.add_rule(deny, name)
    # clone() with any CLONE_NEW* flag (one rule per flag: libseccomp cannot test "mask != 0").
    flag = 1
    while flag <= syscalls.CLONE_NEW_ANY:
        if flag & syscalls.CLONE_NEW_ANY:
            f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
        flag <<= 1
    # clone3 passes its flags in memory a filter cannot read; ENOSYS makes glibc fall back to clone().
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    # The kernel ignores the upper 32 bits of an ioctl request (CVE-2019-10063), so compare only the lower.
    for request in (TIOCSTI, TIOCLINUX):
        f.add_rule(deny, "ioctl", sc.Arg(1, sc.MASKED_EQ, 0xFFFFFFFF, request))
    for flag in _WEAKENING_PERSONALITIES:
        f.add_rule(deny, "personality", sc.Arg(0, sc.MASKED_EQ, flag | _PERSONALITY_QUERY_BIT, flag))
    return f


def bpf_program(f: sc.SyscallFilter | None = None) -> bytes:
    """The filter compiled to classic BPF, as bwrap --seccomp reads it."""
    f = f or build_filter()
    with tempfile.TemporaryFile() as out:
        f.export_bpf(out)
        out.seek(0)
        return out.read()


def load(f: sc.SyscallFilter) -> None:
    """Install the filter on the calling process (no_new_privs must be set, or CAP_SYS_ADMIN held)."""
    f.load()

