# Attack: crash the interpreter with a segmentation fault (ctypes.string_at(0)) after training correctly, so
# the harness never reports.
#@train
import ctypes
print("about to crash", flush=True)
ctypes.string_at(0)
