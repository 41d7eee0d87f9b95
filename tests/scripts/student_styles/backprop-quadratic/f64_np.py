import numpy as np
import torch
x_data = np.array([1.0, 2.0, 3.0])
y_data = np.array([2.0, 4.0, 6.0])
w1 = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
w2 = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
b = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
def forward(x):
    return w1 * x ** 2 + w2 * x + b
def loss(x, y):
    return (forward(x) - y) ** 2
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        x = torch.from_numpy(np.array(x)); y = torch.from_numpy(np.array(y))
        l = loss(x, y)
        l.backward()
        w1.data -= 0.01 * w1.grad.data
        w2.data -= 0.01 * w2.grad.data
        b.data -= 0.01 * b.grad.data
        w1.grad.zero_(); w2.grad.zero_(); b.grad.zero_()
