"""第4讲作业：y = w1 * x^2 + w2 * x + b"""
import torch
import matplotlib
matplotlib.use("Agg")
from matplotlib import pyplot as plt

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w1 = torch.tensor(1.0, requires_grad=True)
w2 = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(1.0, requires_grad=True)
params = [w1, w2, b]


def forward(x):
    return w1 * x ** 2 + w2 * x + b


def loss(x, y):
    return (forward(x) - y) ** 2


def main():
    lr = 0.01
    losses = []
    print(f"before training: f(4) = {forward(4).item():.4f}")
    for epoch in range(100):
        for x, y in zip(x_data, y_data):
            l = loss(x, y)
            l.backward()
            for p in params:
                p.data -= lr * p.grad.data
                p.grad.zero_()
        losses.append(l.item())
        print(f"epoch {epoch + 1:3d}/100  loss {l.item():.5f}  "
              f"w1={w1.item():.4f} w2={w2.item():.4f} b={b.item():.4f}")
    print(f"after training: f(4) = {forward(4).item():.4f}")
    plt.plot(losses)
    plt.xlabel("epoch")
    plt.ylabel("loss")
    plt.savefig("quadratic_loss.png")


if __name__ == "__main__":
    main()
