# Attack (and the limit of what containment can do): never call torch at all; compute the whole SGD run and
# the probes' gradients by hand in pure Python, reading the probe points from the harness's plan, and forge
# the outcome with those values. The forged numbers are the right numbers, so the outcome cannot be told
# from an honest one: this script does the homework's arithmetic without autograd.
import gc
import json
import os
import posix

plan = next(o for o in gc.get_objects() if isinstance(o, dict) and "max_trace_steps" in o)
w, trace = 1.0, []
for epoch in range(100):
    for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]):
        g = 2 * x * (w * x - y)
        trace.append({"values": {"w": {"shape": [1], "data": [w]}}, "grads": {"w": {"shape": [1], "data": [g]}}})
        w -= 0.01 * g
probes = [{"grads": {"w": {"shape": [1], "data": [2 * p["x"] * (p["params"]["w"] * p["x"] - p["y"])]}}}
          for p in plan["probes"]]
forged = {"version": 1, "status": "ok", "backward_calls": len(trace), "trace": trace,
          "final_params": {"w": {"kind": "tensor", "shape": [1], "data": [w]}},
          "predictions": [{"x": 4.0, "value": {"shape": [1], "data": [4 * w]}}], "probes": {"results": probes}}
os.write(3, json.dumps(forged).encode())
posix._exit(0)
