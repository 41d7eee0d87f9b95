# Attack: ptrace through ctypes: attach to the parent, to pid 1, to the worker's host pid; PTRACE_TRACEME;
# read another process's memory with process_vm_readv. Then train normally.
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
PTRACE_TRACEME, PTRACE_ATTACH, PTRACE_SEIZE = 0, 16, 0x4206
for name, request, pid in (("traceme", PTRACE_TRACEME, 0), ("attach ppid", PTRACE_ATTACH, os.getppid()),
                           ("attach 1", PTRACE_ATTACH, 1), ("seize worker", PTRACE_SEIZE, int("__WORKER_PID__"))):
    result = libc.ptrace(ctypes.c_long(request), ctypes.c_long(pid), None, None)
    print("ALLOWED" if result == 0 else "BLOCKED", "ptrace", name, ctypes.get_errno(), flush=True)
child = os.fork()
if child == 0:
    import time
    time.sleep(5)
    os._exit(0)


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


buf = ctypes.create_string_buffer(64)
local = IoVec(ctypes.cast(buf, ctypes.c_void_p), 64)
remote = IoVec(ctypes.c_void_p(id(buf)), 64)
n = libc.process_vm_readv(child, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
print("ALLOWED" if n >= 0 else "BLOCKED", "process_vm_readv", ctypes.get_errno(), flush=True)
n = libc.syscall(ctypes.c_long(101), ctypes.c_long(PTRACE_ATTACH), ctypes.c_long(child), None, None)
print("ALLOWED" if n == 0 else "BLOCKED", "ptrace attach child", ctypes.get_errno(), flush=True)
os.kill(child, 9)
os.waitpid(child, 0)
#@train
