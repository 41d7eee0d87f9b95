# Attack: read /dev/urandom forever (CPU in the kernel, memory churn), never finishing.
with open("/dev/urandom", "rb") as f:
    while True:
        f.read(1 << 20)
