import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w1 = torch.tensor([1.0], requires_grad=True)
w2 = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)


def forward(x):
    return w1 * x * x + w2 * x + b


def loss(x, y):
    return (forward(x) - y) ** 2


for epoch in range(10000):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        with torch.no_grad():
            w1 -= 0.01 * w1.grad
            w2 -= 0.01 * w2.grad
            b -= 0.01 * b.grad
        w1.grad.zero_()
        w2.grad.zero_()
        b.grad.zero_()
    if epoch % 1000 == 0:
        print(epoch, l.item())
print('Predict (after training)', 4, forward(4).item())
