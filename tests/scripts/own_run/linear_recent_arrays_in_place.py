import numpy as np
import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = torch.Tensor([1.0])
w.requires_grad = True
recent = [np.zeros(2), np.zeros(2)]  # the last two (w, grad) pairs, overwritten in place


def forward(x):
    return x * w


def loss(x, y):
    return (forward(x) - y) ** 2


for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        recent[epoch % 2] = np.array([w.item(), w.grad.item()])
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
print("predict (after training)", 4, forward(4).item(), recent)
