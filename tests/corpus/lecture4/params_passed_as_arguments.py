import torch

# the parameter travels with every call instead of being read as a global
xs = [1, 2, 3]
ys = [2, 4, 6]

weight_init = 1.0
w = torch.tensor([weight_init], requires_grad=True)


def forward(x, w):
    return w * x


def loss(x, y, w):
    return (forward(x, w) - y) ** 2


history = []
for epoch in range(100):
    for x, y in zip(xs, ys):
        l = loss(x, y, w)
        l.backward()
        w.data -= 0.01 * w.grad.data
        w.grad.data.zero_()
    history.append(l.item())
    if epoch % 20 == 19:
        print(f"epoch {epoch + 1}: loss {l.item():.6f}, w {w.item():.6f}")

print("after training: forward(4) =", forward(4, w).item())
