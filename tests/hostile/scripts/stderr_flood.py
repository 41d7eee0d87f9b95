# Attack: output flood on stderr, straight to fd 2 (no Python buffering), forever.
import os
chunk = b"E" * (1 << 20)
os.write(2, b"flood starts\n")
while True:
    os.write(2, chunk)
