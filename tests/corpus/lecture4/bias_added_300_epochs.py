import torch

# my own model: a line with an intercept, trained a bit longer
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = torch.tensor([1.0], requires_grad=True)
b = torch.tensor([0.5], requires_grad=True)


def forward(x):
    return w * x + b


def loss(x, y):
    return (forward(x) - y) ** 2


EPOCHS = 300
for epoch in range(EPOCHS):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        with torch.no_grad():
            w -= 0.01 * w.grad
            b -= 0.01 * b.grad
        w.grad.zero_()
        b.grad.zero_()
    if epoch % 50 == 0:
        print(f"epoch {epoch}: loss={l.item():.5f} w={w.item():.4f} b={b.item():.4f}")

print("forward(4) =", forward(4).item())
