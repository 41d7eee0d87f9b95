# Attack: close stdout, stderr and the outcome fd (so the worker sees end-of-file on every pipe it reads),
# then sleep forever: only the wall clock can end it.
import os
import time

for fd in range(0, 1024):
    try:
        os.close(fd)
    except OSError:
        pass
time.sleep(10 ** 6)
