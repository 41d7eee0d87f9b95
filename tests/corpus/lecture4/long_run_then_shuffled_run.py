import random

import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]


def forward(x):
    return x * w


def loss(x, y):
    return (forward(x) - y) ** 2


# first try: 400 epochs in the data's order
w = torch.Tensor([1.0])
w.requires_grad = True
for epoch in range(400):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
print("in order:", w.item())

# second try: the course's 100 epochs, the samples shuffled every epoch
random.seed(1)
w = torch.Tensor([1.0])
w.requires_grad = True
pairs = list(zip(x_data, y_data))
for epoch in range(100):
    random.shuffle(pairs)
    for x, y in pairs:
        l = loss(x, y)
        l.backward()
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
print("shuffled:", w.item())
print("predict (after training)", 4, forward(4).item())
