# Attack: fill the disk. Write until refused in the working dir, /tmp and /dev/shm; then train normally.
import os

for directory in (".", "/tmp", "/dev/shm"):
    written = 0
    try:
        with open(os.path.join(directory, "fill.bin"), "wb") as f:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
                written += 1
    except OSError as exc:
        print(f"FULL {directory} after {written} MiB: {exc.strerror}", flush=True)
#@train
