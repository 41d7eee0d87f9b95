# Attack: sleep forever. Use no CPU at all, so only the wall clock can end the job.
import time
print("going to sleep", flush=True)
time.sleep(10 ** 6)
