# Attack: output flood on stdout. Write megabytes forever, with and without newlines.
import sys
print("flood starts", flush=True)
line = ("A" * 1023 + "\n") * 1024
blob = b"B" * (1 << 20)
while True:
    sys.stdout.write(line)
    sys.stdout.buffer.write(blob)
