# Attack: make the grader's parsing and scoring slow: a forged outcome under the size cap holding
# 20,000 trace steps (as many as the harness ever records), 1,000 probe results and 1,000 predictions
# (each at its schema limit), every one of them to be parsed, converted to arrays and compared. Then
# the real _exit. (forged_too_long_trace.py sends more steps than any harness writes.)
import json
import os
import posix

step = {"grads": {"w": {"data": [1]}}}
forged = {"version": 1, "status": "ok", "backward_calls": 20000, "trace": [step] * 20000,
          "probes": {"results": [{"grads": {"w": {"data": [1]}}}] * 1000},
          "predictions": [{"x": i, "value": {"data": [1]}} for i in range(1000)]}
data = json.dumps(forged, separators=(",", ":")).encode()
print("forged", len(data), "bytes", flush=True)
os.write(3, data)
posix._exit(0)
