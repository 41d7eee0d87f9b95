# Lecture 4's quadratic homework with the training loop inside a function and torch.no_grad() updates.
import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w1 = torch.tensor([1.0], requires_grad=True)
w2 = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)


def forward(x):
    return w1 * x ** 2 + w2 * x + b


def loss(x, y):
    return (forward(x) - y) ** 2


def train(epochs, lr):
    for epoch in range(epochs):
        for xi, yi in zip(x_data, y_data):
            l = loss(xi, yi)
            l.backward()
            with torch.no_grad():
                for p in (w1, w2, b):
                    p -= lr * p.grad
                    p.grad.zero_()


train(100, 0.01)
print('Predict(after training)', 4, forward(4).item())
