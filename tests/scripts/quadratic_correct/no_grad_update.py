import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w1 = torch.ones(1, requires_grad=True)
w2 = torch.ones(1, requires_grad=True)
b = torch.ones(1, requires_grad=True)
lr = 0.01

def forward(x):
    return w1 * x * x + w2 * x + b

def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) ** 2

for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        with torch.no_grad():
            for p in (w1, w2, b):
                p -= lr * p.grad
                p.grad.zero_()
print(forward(4).item())
