# Attack: os.setsid() and a background subprocess (a shell-less Python that loops, marker in its argv),
# started with start_new_session, left running when the job ends normally.
import os
import subprocess
import sys

os.setsid() if os.getpid() != os.getsid(0) else None
proc = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(0.05)", "__MARKER__"],
                        start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL, close_fds=False)
print("background pid", proc.pid, flush=True)
#@train
