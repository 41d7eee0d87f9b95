# Attack: make the grader's parsing and scoring slow: a forged outcome just under the size cap holding
# 100,000 trace steps, 1,000 probe results and 1,000 predictions (each within its schema limit), every one
# of them to be parsed, converted to arrays and compared. Then the real _exit.
import json
import os
import posix

step = {"grads": {"w": {"data": [1]}}}
forged = {"version": 1, "status": "ok", "backward_calls": 100000, "trace": [step] * 100000,
          "probes": {"results": [{"grads": {"w": {"data": [1]}}}] * 1000},
          "predictions": [{"x": i, "value": {"data": [1]}} for i in range(1000)]}
data = json.dumps(forged, separators=(",", ":")).encode()
print("forged", len(data), "bytes", flush=True)
os.write(3, data)
posix._exit(0)
