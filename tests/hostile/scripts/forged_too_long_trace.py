# Attack: a forged outcome under the size cap with 100,000 trace steps, more than the harness ever records:
# validating each would cost the worker about a second; it is refused as a whole, at once.
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
