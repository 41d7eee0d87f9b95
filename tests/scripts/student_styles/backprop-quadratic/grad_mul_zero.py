import torch
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w1 = torch.tensor([1.0]).requires_grad_()
w2 = torch.tensor([1.0]).requires_grad_()
b = torch.tensor([1.0]).requires_grad_()
def forward(x):
    return w1 * x ** 2 + w2 * x + b
def loss(x, y):
    return (forward(x) - y) ** 2
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.sum().backward()
        with torch.no_grad():
            w1 -= 0.01 * w1.grad; w2 -= 0.01 * w2.grad; b -= 0.01 * b.grad
        w1.grad *= 0; w2.grad *= 0; b.grad *= 0
