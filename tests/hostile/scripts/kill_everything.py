# Attack: kill the parent and every pid: SIGKILL to -1 (every process it may signal), to its parent, to
# its process group, to the worker's and the fork server's host pids, and to every pid up to 4096 with
# SIGTERM/SIGKILL. Then, if still alive, train normally.
import os
import signal

print("ppid", os.getppid(), "pid", os.getpid(), flush=True)
for target in (-1, os.getppid(), 0, int("__WORKER_PID__"), int("__SERVER_PID__")):
    try:
        os.kill(target, signal.SIGKILL)
        print("SIGNALLED", target, flush=True)
    except OSError as exc:
        print("BLOCKED kill", target, exc.errno, flush=True)
hit = []
for pid in range(2, 4096):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
            hit.append(pid)
        except OSError:
            pass
print("SIGNALLED pids", sorted(set(hit)), flush=True)
try:
    os.killpg(1, signal.SIGKILL)
except OSError as exc:
    print("BLOCKED killpg", exc.errno, flush=True)
#@train
