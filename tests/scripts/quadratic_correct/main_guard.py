import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w1 = torch.Tensor([1.0])
w1.requires_grad = True
w2 = torch.Tensor([1.0])
w2.requires_grad = True
b = torch.Tensor([1.0])
b.requires_grad = True


def forward(x):
    return w1 * x ** 2 + w2 * x + b


def loss(x, y):
    return (forward(x) - y) ** 2


def train(epochs, lr):
    for epoch in range(epochs):
        for x, y in zip(x_data, y_data):
            l = loss(x, y)
            l.backward()
            for p in (w1, w2, b):
                p.data = p.data - lr * p.grad.data
                p.grad.data.zero_()
        print("epoch", epoch, l.item())


if __name__ == "__main__":
    train(100, 0.01)
    print("Predict(after training)", 4, forward(4).item())
