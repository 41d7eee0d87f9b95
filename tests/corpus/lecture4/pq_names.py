import torch

# y = p x^2 + q x + b
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
p = torch.tensor([1.0], requires_grad=True)
q = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)


def forward(x):
    return p * x ** 2 + q * x + b


def loss(x, y):
    return (forward(x) - y) ** 2


for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        p.data -= 0.01 * p.grad.data
        q.data -= 0.01 * q.grad.data
        b.data -= 0.01 * b.grad.data
        p.grad.data.zero_()
        q.grad.data.zero_()
        b.grad.data.zero_()
print('predict 4:', forward(4).item())
