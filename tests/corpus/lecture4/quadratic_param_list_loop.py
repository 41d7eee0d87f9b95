import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w1 = torch.tensor([1.0], requires_grad=True)
w2 = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)
params = [w1, w2, b]


def forward(x):
    return w1 * x * x + w2 * x + b


def loss(x, y):
    return (forward(x) - y) ** 2


for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        for p in params:
            p.data -= 0.01 * p.grad.data
            p.grad.data.zero_()
    if epoch % 10 == 0:
        print('epoch', epoch, 'loss', l.item())

print('predict (after training)', 4, forward(4).item())
