import numpy as np
import torch
x_data = np.array([1.0, 2.0, 3.0])
y_data = np.array([2.0, 4.0, 6.0])
w = torch.tensor([1.0], requires_grad=True)
def forward(x):
    return x * w
def loss(x, y):
    return (forward(x) - y) ** 2
for epoch in range(100):
    for i in range(len(x_data)):
        l = loss(x_data[i], y_data[i])
        l.backward()
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
print(w.item())
