# Attack: replace sys.modules['torch'] with a fake module whose Tensor reports the known answer (w = 2,
# prediction 8) and whose autograd.backward is a no-op, so the harness's later `import torch` gets the fake.
import sys
import types

import torch as real_torch

w = real_torch.tensor([1.0], requires_grad=True)


def forward(x):
    return w * x


def loss(x, y):
    return (forward(x) - y) ** 2


fake = types.ModuleType("torch")


class Tensor:
    dtype, shape, is_leaf, requires_grad, grad = "float32", (1,), True, True, None

    def numel(self):
        return 1

    def is_complex(self):
        return False

    def is_floating_point(self):
        return True

    def dim(self):
        return 1

    def tolist(self):
        return [2.0]


fake.Tensor = Tensor
fake.autograd = types.SimpleNamespace(backward=lambda *a, **k: None)
fake.no_grad = real_torch.no_grad
fake.tensor = real_torch.tensor
fake.nn = real_torch.nn
w_claimed = Tensor()
sys.modules["torch"] = fake
globals()["w"] = w_claimed
