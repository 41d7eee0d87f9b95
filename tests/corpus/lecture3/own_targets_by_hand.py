# gradient descent by hand on my own line, y = 3x, at the lecture's x
xs_train = [1.0, 2.0, 3.0]
ys_train = [3.0, 6.0, 9.0]
w = 1.0


def forward(x):
    return x * w


def cost(xs, ys):
    return sum((forward(x) - y) ** 2 for x, y in zip(xs, ys)) / len(xs)


def gradient(xs, ys):
    return sum(2 * x * (forward(x) - y) for x, y in zip(xs, ys)) / len(xs)


for epoch in range(100):
    loss_now = cost(xs_train, ys_train)
    w -= 0.01 * gradient(xs_train, ys_train)
print("w after training:", w, "cost:", loss_now)
print("forward(4) =", forward(4))
