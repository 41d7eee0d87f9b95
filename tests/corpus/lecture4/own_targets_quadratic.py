import torch

# my own targets: y = x^2 + 1 on the lecture's three x values
x_data = [1.0, 2.0, 3.0]
y_data = [x * x + 1 for x in x_data]

w1 = torch.tensor([1.0], requires_grad=True)
w2 = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)


def forward(x):
    return w1 * x ** 2 + w2 * x + b


def loss(x, y):
    return (forward(x) - y) ** 2


for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        with torch.no_grad():
            for p in (w1, w2, b):
                p -= 0.01 * p.grad
                p.grad.zero_()
    if epoch % 20 == 0:
        print(epoch, l.item())

print("predict (after training)", 4, forward(4).item())
