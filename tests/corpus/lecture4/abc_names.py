import torch

# y = a x^2 + b x + c
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
a = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)
c = torch.tensor([1.0], requires_grad=True)


def forward(x):
    return a * x ** 2 + b * x + c


def loss(x, y):
    return (forward(x) - y) ** 2


for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        a.data -= 0.01 * a.grad.data
        b.data -= 0.01 * b.grad.data
        c.data -= 0.01 * c.grad.data
        a.grad.data.zero_()
        b.grad.data.zero_()
        c.grad.data.zero_()
print('predict 4:', forward(4).item())
