import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = torch.tensor([1.0], requires_grad=True)


def forward(x):
    return x * w


def loss(x, y):
    return (forward(x) - y) ** 2


for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward(retain_graph=True)
        w.data -= 0.01 * w.grad.data
        w.grad.zero_()
    if epoch % 20 == 0:
        print(f"epoch={epoch} loss={l.item():.6f} w={w.item():.6f}")
print("predict (after training)", 4, forward(4).item())
