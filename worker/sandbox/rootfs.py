"""What a job's filesystem holds, and how a namespaced child builds it on a tmpfs and pivots into it.

The layout is data so that every backend shows the job the same tree: the fork server's child mounts it
with the calls below, bwrap gets it as arguments, the docker image is built to match it.
"""
from __future__ import annotations

import os
import site
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from . import syscalls

HOME = "/home/student"
HARNESS_INSIDE = "/opt/harness/harness.py"
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom")
JOB_UID = 1000  # the job's uid and gid inside its user namespace
# Directories made only to reach a bind: crossed, never listed (bwrap makes them owned by the job).
SKELETON_DIR_MODE = 0o111

# Environment of the job; nothing of the worker's environment gets in.
JOB_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": HOME,
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": "/tmp/matplotlib",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
}


@dataclass(frozen=True)
class RootLayout:
    """The job's view of the filesystem. Every host path here is bound read-only at `inside`."""

    ro_binds: tuple[tuple[str, str], ...]  # (host path, path inside)
    symlinks: tuple[tuple[str, str], ...]  # (target, path inside)
    devices: tuple[str, ...] = DEVICES
    home: str = HOME
    tmpfs_dirs: tuple[str, ...] = ("/tmp", "/dev/shm")


def _covered(path: str, chosen: list[str]) -> bool:
    return any(path == c or path.startswith(c.rstrip("/") + "/") for c in chosen)


def default_layout(harness_path: str | os.PathLike) -> RootLayout:
    """/usr, the /lib* and /bin links, the Python installation and the venv, and the harness file."""
    binds: list[tuple[str, str]] = []
    links: list[tuple[str, str]] = []
    chosen: list[str] = []

    def bind_dir(path: str) -> None:
        real = os.path.realpath(path)
        if os.path.isdir(real) and not _covered(real, chosen):
            chosen.append(real)
            binds.append((real, real))

    bind_dir("/usr")
    bind_dir("/etc/fonts")  # matplotlib asks fontconfig (fc-list) for fonts when it builds its cache
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            links.append((os.readlink(top), top))
        elif os.path.isdir(top):
            bind_dir(top)
    # Already-imported modules keep their host paths (matplotlib finds its fonts through __file__),
    # so the interpreter and the venv are bound at the same place inside.
    for path in (sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix, *site.getsitepackages()):
        bind_dir(path)
    exe = os.path.realpath(sys.executable)
    bind_dir(os.path.dirname(os.path.dirname(exe)))
    binds.append((str(Path(harness_path).resolve()), HARNESS_INSIDE))
    return RootLayout(ro_binds=tuple(binds), symlinks=tuple(links))


# --- building it (runs in the job's init process, inside fresh user + mount + pid namespaces) ---------

_ST_TO_MS = (
    (os.ST_NOSUID, syscalls.MS_NOSUID),
    (os.ST_NODEV, syscalls.MS_NODEV),
    (os.ST_NOEXEC, syscalls.MS_NOEXEC),
    (os.ST_NOATIME, syscalls.MS_NOATIME),
    (os.ST_NODIRATIME, syscalls.MS_NODIRATIME),
    (os.ST_RELATIME, syscalls.MS_RELATIME),
)


def _locked_flags(path: str) -> int:
    """Flags of the source mount that an unprivileged remount must keep (the kernel locks them)."""
    flags = os.statvfs(path).f_flag
    return sum(ms for st, ms in _ST_TO_MS if flags & st)


def _make_parents(root: str, inside: str) -> None:
    current = root
    for part in Path(inside).parent.parts[1:]:
        current = os.path.join(current, part)
        if not os.path.lexists(current):
            os.mkdir(current)
            os.chmod(current, SKELETON_DIR_MODE)


def _mountpoint(root: str, inside: str, is_dir: bool, mode: int = 0o755) -> str:
    _make_parents(root, inside)
    target = root + inside
    if not os.path.lexists(target):
        if is_dir:
            os.mkdir(target)
        else:
            os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
        os.chmod(target, mode)
    return target


def open_sources(layout: RootLayout) -> dict[str, int]:
    """O_PATH fds of every host path to bind, opened before the job's root takes the place of the host's."""
    fds = {}
    for source in [s for s, _ in layout.ro_binds] + list(layout.devices):
        if source not in fds:
            fds[source] = os.open(source, os.O_PATH | os.O_CLOEXEC)
    return fds


def _bind(fd: int, target: str, readonly: bool) -> None:
    via = f"/proc/self/fd/{fd}"
    syscalls.mount(via, target, None, syscalls.MS_BIND | syscalls.MS_REC)
    flags = syscalls.MS_REMOUNT | syscalls.MS_BIND | syscalls.MS_NOSUID | _locked_flags(target)
    if readonly:
        flags |= syscalls.MS_RDONLY | syscalls.MS_NODEV
    else:
        flags |= syscalls.MS_NOEXEC
    syscalls.mount(None, target, None, flags)


def _tmpfs_options(disk_mb: int) -> str:
    return f"size={disk_mb}m,nr_inodes=8192"


def resize_tmpfs(layout: RootLayout, disk_mb: int) -> None:
    """Give the writable tmpfs dirs of a root built in advance the job's own size (still namespace root)."""
    flags = syscalls.MS_REMOUNT | syscalls.MS_NOSUID | syscalls.MS_NODEV
    for inside in (*layout.tmpfs_dirs, layout.home):
        syscalls.mount("tmpfs", inside, "tmpfs", flags, _tmpfs_options(disk_mb))


def build_root(layout: RootLayout, sources: dict[str, int], *, disk_mb: int, owner: int = JOB_UID,
               workdir: str = "/tmp") -> None:
    """Mount the layout on a fresh tmpfs at `workdir`, pivot into it, detach the host tree, make / read-only."""
    tmpfs_flags = syscalls.MS_NOSUID | syscalls.MS_NODEV
    syscalls.mount(None, "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE)
    syscalls.mount("tmpfs", workdir, "tmpfs", tmpfs_flags, "size=1m,nr_inodes=4096,mode=0755")
    root = workdir
    # The writable tmpfs dirs first: a bind below one of them (a venv in a clone under /tmp) must land
    # on the tmpfs, not be hidden under it.
    size = _tmpfs_options(disk_mb)
    for inside in layout.tmpfs_dirs:
        syscalls.mount("tmpfs", _mountpoint(root, inside, True), "tmpfs", tmpfs_flags, f"{size},mode=1777")
    syscalls.mount("tmpfs", _mountpoint(root, layout.home, True), "tmpfs", tmpfs_flags,
                   f"{size},mode=0755,uid={owner},gid={owner}")
    for source, inside in layout.ro_binds:
        is_dir = stat.S_ISDIR(os.stat(sources[source]).st_mode)
        _bind(sources[source], _mountpoint(root, inside, is_dir), readonly=True)
    for target, inside in layout.symlinks:
        _make_parents(root, inside)
        os.symlink(target, root + inside)
    for device in layout.devices:
        _bind(sources[device], _mountpoint(root, device, is_dir=False, mode=0o666), readonly=False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{root}/dev/{name}")
    proc = _mountpoint(root, "/proc", True)
    proc_flags = syscalls.MS_NOSUID | syscalls.MS_NODEV | syscalls.MS_NOEXEC
    try:
        syscalls.mount("proc", proc, "proc", proc_flags, "hidepid=2")
    except OSError:
        syscalls.mount("proc", proc, "proc", proc_flags)
    # pivot_root(".", ".") stacks the old root under the new one; detaching it leaves no way back
    # (chroot alone can be escaped into the old root).
    os.chdir(root)
    syscalls.pivot_root(".", ".")
    syscalls.umount2(".", syscalls.MNT_DETACH)
    os.chdir("/")
    syscalls.mount(None, "/", None, syscalls.MS_REMOUNT | syscalls.MS_BIND | syscalls.MS_RDONLY | tmpfs_flags)
