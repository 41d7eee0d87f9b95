import torch

# part 1: the lecture's y = w * x
data = [(1.0, 2.0), (2.0, 4.0), (3.0, 6.0)]
w = torch.tensor([1.0], requires_grad=True)

for epoch in range(100):
    for x, y in data:
        l = (w * x - y) ** 2
        l.backward()
        w.data -= 0.01 * w.grad.data
        w.grad.data.zero_()
print("linear: w =", w.item())

# part 2: the homework, y = w1 * x^2 + w2 * x + b
w1 = torch.tensor([1.0], requires_grad=True)
w2 = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([1.0], requires_grad=True)


def forward(x):
    return w1 * x * x + w2 * x + b


def loss(x, y):
    return (forward(x) - y) ** 2


for epoch in range(100):
    for x, y in data:
        l = loss(x, y)
        l.backward()
        for p in (w1, w2, b):
            p.data -= 0.01 * p.grad.data
            p.grad.data.zero_()
    if epoch % 25 == 0:
        print("quadratic epoch", epoch, "loss", l.item())
print("quadratic: forward(4) =", forward(4).item())
