import torch
import matplotlib.pyplot as plt

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]


def forward(x):
    return x * w


def loss(x, y):
    return (forward(x) - y) ** 2


for lr in [0.01, 0.01]:
    w = torch.Tensor([1.0])
    w.requires_grad = True
    history = []
    for epoch in range(100):
        for x, y in zip(x_data, y_data):
            l = loss(x, y)
            l.backward()
            w.data = w.data - lr * w.grad.data
            w.grad.data.zero_()
        history.append(l.item())
    plt.plot(history, label=str(lr))
plt.legend()
plt.show()
print("predict (after training)", 4, forward(4).item())
