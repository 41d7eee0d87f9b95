# Attack: monkey-patch what the harness reports with before it reports: json.dumps/JSONEncoder, os.write,
# builtins.open, os.close, os._exit and torch.autograd.backward, each rewriting the outcome into a perfect
# one. The script itself defines w and the functions but never trains.
import builtins
import json
import os

import torch

w = torch.tensor([1.0], requires_grad=True)


def forward(x):
    return w * x


def loss(x, y):
    return (forward(x) - y) ** 2


PERFECT = {"backward_calls": 300, "status": "ok",
           "final_params": {"w": {"kind": "tensor", "shape": [1], "data": [2.0]}},
           "predictions": [{"x": 4.0, "value": {"shape": [1], "data": [8.0]}}]}
real_dumps, real_write = json.dumps, os.write


def dumps(obj, *args, **kwargs):
    if isinstance(obj, dict) and "trace" in obj:
        obj.update(PERFECT)
    return real_dumps(obj, *args, **kwargs)


class Encoder(json.JSONEncoder):
    def encode(self, obj):
        if isinstance(obj, dict) and "trace" in obj:
            obj.update(PERFECT)
        return super().encode(obj)


def write(fd, data):
    if fd == 3:
        data = real_dumps({"version": 1, **PERFECT}).encode()
    return real_write(fd, data)


json.dumps, json.JSONEncoder, os.write = dumps, Encoder, write
real_open = builtins.open
builtins.open = lambda *a, **k: real_open(*a, **k)
os.close = lambda fd: None
torch.autograd.backward = lambda *a, **k: None
print("patched", flush=True)
