# Attack: leave before anything is reported: the real _exit (posix._exit, which the harness does not wrap)
# in the middle of training, so the harness never writes an outcome.
import posix
import torch

w = torch.tensor([1.0], requires_grad=True)
for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]):
    l = (w * x - y) ** 2
    l.backward()
    w.data -= 0.01 * w.grad.data
    w.grad.zero_()
print("leaving", flush=True)
posix._exit(0)
