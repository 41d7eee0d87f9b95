# Attack: forge a perfect outcome (status ok, 300 backward calls, a converged trace, w = 2, prediction 8,
# "score": 100) and write it to every fd from 0 to 1023, then end normally without ever training.
import json
import os

import torch

w = torch.tensor([1.0], requires_grad=True)


def forward(x):
    return w * x


def loss(x, y):
    return (forward(x) - y) ** 2


step = {"values": {"w": {"shape": [1], "data": [2.0]}}, "grads": {"w": {"shape": [1], "data": [0.0]}}, "loss": 0.0}
forged = {"version": 1, "status": "ok", "backward_calls": 300, "trace": [step] * 300, "score": 100,
          "passed": True, "final_params": {"w": {"kind": "tensor", "shape": [1], "data": [2.0]}},
          "predictions": [{"x": 4.0, "value": {"shape": [1], "data": [8.0]}}]}
data = json.dumps(forged).encode()
written = []
for fd in range(1024):
    try:
        os.write(fd, data)
        written.append(fd)
    except OSError:
        pass
print("\nFORGED on fds", written, flush=True)
