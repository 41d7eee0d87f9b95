# Attack: escape the mount namespace through ctypes: mount a tmpfs or bind the old root, remount / read-write,
# unshare(user|mount) to regain capabilities, setns into pid 1's namespaces, chroot and pivot_root, the new
# mount API (fsopen), clone with CLONE_NEWUSER. Then train normally.
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)


def attempt(name, result):
    print("ALLOWED" if result == 0 else "BLOCKED", name, ctypes.get_errno(), flush=True)


attempt("mount tmpfs", libc.mount(b"tmpfs", b"/tmp", b"tmpfs", ctypes.c_ulong(0), None))
attempt("bind /", libc.mount(b"/", b"/tmp", None, ctypes.c_ulong(4096 | 16384), None))
attempt("remount / rw", libc.mount(None, b"/", None, ctypes.c_ulong(32 | 4096), None))
attempt("umount /proc", libc.umount2(b"/proc", 2))
attempt("unshare user+mount", libc.unshare(0x10000000 | 0x00020000))
attempt("unshare net", libc.unshare(0x40000000))
fd = os.open("/proc/1/ns/mnt", os.O_RDONLY)
attempt("setns mnt", libc.setns(fd, 0))
attempt("chroot /tmp", libc.chroot(b"/tmp"))
attempt("pivot_root", libc.syscall(ctypes.c_long(155), b"/tmp", b"/tmp"))
attempt("fsopen tmpfs", 0 if libc.syscall(ctypes.c_long(430), b"tmpfs", 0) >= 0 else -1)
attempt("open_tree /", 0 if libc.syscall(ctypes.c_long(428), -100, b"/", 0) >= 0 else -1)
pid = libc.syscall(ctypes.c_long(56), ctypes.c_ulong(0x10000000 | 17), None, None, None, None)  # raw clone
if pid == 0:
    os._exit(0)
attempt("clone newuser", 0 if pid > 0 else -1)
try:
    os.setuid(0)
    print("ALLOWED setuid 0", flush=True)
except OSError as exc:
    print("BLOCKED setuid 0", exc.errno, flush=True)
with open("/proc/self/status") as f:
    print([line.strip() for line in f if line.startswith(("Cap", "NoNewPrivs", "Seccomp", "Uid"))], flush=True)
#@train
