# Attack: thread bomb. Start threads until the kernel refuses, keep them all spinning, never finish.
import threading
import time


def spin():
    while True:
        time.sleep(0.001)


started = 0
while True:
    try:
        threading.Thread(target=spin, daemon=True).start()
        started += 1
    except RuntimeError:
        print("thread limit after", started, flush=True)
        break
while True:
    time.sleep(0.01)
