# Attack: write outside the working directory: the worker's marker paths, /, /usr, /etc, the harness, the
# venv's site-packages (to poison later jobs), /proc/sys, /sys; then train normally.
import json
import os
import site
import sys

targets = [*json.loads('__MARKER_PATHS__'), "/__MARKER__", "/usr/__MARKER__", "/etc/__MARKER__",
           "/opt/harness/harness.py", os.path.join(site.getsitepackages()[0], "sitecustomize.py"),
           os.path.join(site.getsitepackages()[0], "__MARKER__.pth"), os.path.join(sys.prefix, "__MARKER__"),
           "/proc/sys/kernel/hostname", "/sys/__MARKER__", "/dev/__MARKER__", "/dev/null/../__MARKER__"]
for path in targets:
    try:
        with open(path, "a") as f:
            f.write("import os; os.system('touch /tmp/__MARKER__')\n")
        print("WROTE", path, flush=True)
    except OSError as exc:
        print("BLOCKED write", path, exc.errno, flush=True)
for path in ("/tmp/__MARKER__", "/home/student/__MARKER__", "/dev/shm/__MARKER__"):
    with open(path, "w") as f:  # the job's own tmpfs: allowed, and gone with the job
        f.write("__MARKER__")
    print("WROTE own", path, flush=True)
#@train
