# Attack: forge the outcome on the outcome fd (3) and leave with the real _exit so that the forgery is the
# only report: it claims a finished run of 300 steps, a trace of zero gradients (what a converged run ends
# with), w = 2 and the prediction 8, without training or defining the functions.
import json
import posix

step = {"values": {}, "grads": {"w": {"shape": [1], "data": [0.0]}}, "loss": 0.0}
forged = {"version": 1, "status": "ok", "backward_calls": 300, "trace": [step] * 300,
          "final_params": {"w": {"kind": "tensor", "shape": [1], "data": [2.0]}},
          "predictions": [{"x": 4.0, "value": {"shape": [1], "data": [8.0]}}],
          "probes": {"results": [{"grads": {"w": {"shape": [1], "data": [0.0]}}}] * 8}}
import os
os.write(3, json.dumps(forged).encode())
posix._exit(0)
