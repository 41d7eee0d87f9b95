# Attack: a huge outcome: 200 MiB of valid-looking JSON written to the outcome fd, then the real _exit, to
# make the worker buffer and parse it.
import os
import posix

os.write(3, b'{"version": 1, "status": "ok", "trace": [')
step = b'{"grads": {"w": {"shape": [1], "data": [0.0]}}},' * 20000
for _ in range(200 * (1 << 20) // len(step)):
    os.write(3, step)
os.write(3, b'{}]}')
posix._exit(0)
