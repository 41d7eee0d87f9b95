import torch

# y = w1 x^2 + w2 x (I left the constant term out), then ask for an x to predict
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w1 = torch.tensor([1.0], requires_grad=True)
w2 = torch.tensor([1.0], requires_grad=True)


def forward(x):
    return w1 * x ** 2 + w2 * x


def loss(x, y):
    return (forward(x) - y) ** 2


for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        w1.data -= 0.01 * w1.grad.data
        w2.data -= 0.01 * w2.grad.data
        w1.grad.data.zero_()
        w2.grad.data.zero_()
    print("epoch", epoch, "loss", l.item())

x = float(input("x to predict: "))
print("prediction:", forward(x).item())
