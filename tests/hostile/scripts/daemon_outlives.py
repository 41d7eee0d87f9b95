# Attack: a double-forked, setsid'ed daemon that outlives the job: it execs a fresh Python (the marker in its
# argv and environment) that waits for the job to end, then tries to write a marker file on the host and to
# connect to the worker's listener. The job itself ends at once.
import json
import os
import sys

paths = json.loads('__MARKER_PATHS__')
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        code = (
            "import os, socket, time\n"
            "open('/tmp/daemon-up', 'w').close()\n"
            "time.sleep(1.0)\n"
            f"for p in {paths!r}:\n"
            "    try: open(p, 'w').write('daemon')\n"
            "    except OSError: pass\n"
            "try: socket.create_connection(('127.0.0.1', int('__PORT__')), timeout=0.5)\n"
            "except OSError: pass\n"
            "while True: time.sleep(0.05)\n"
        )
        os.execve(sys.executable, [sys.executable, "-c", code, "__MARKER__"],
                  {"PATH": "/usr/bin:/bin", "HOSTILE": "__MARKER__"})
    os._exit(0)
import time

for _ in range(100):  # the job ends only once its daemon runs
    if os.path.exists("/tmp/daemon-up"):
        print("daemon started", flush=True)
        break
    time.sleep(0.02)
#@train
