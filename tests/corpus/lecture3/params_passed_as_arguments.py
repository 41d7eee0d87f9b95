# gradient descent by hand, with w handed to every function rather than read as a global
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]


def forward(x, w):
    return x * w


def cost(xs, ys, w):
    total = 0.0
    for x, y in zip(xs, ys):
        total += (forward(x, w) - y) ** 2
    return total / len(xs)


def gradient(xs, ys, w):
    total = 0.0
    for x, y in zip(xs, ys):
        total += 2 * x * (forward(x, w) - y)
    return total / len(xs)


w = 1.0
for epoch in range(100):
    cost_now = cost(x_data, y_data, w)
    w = w - 0.01 * gradient(x_data, y_data, w)
    print("epoch %3d  w = %.6f  cost = %.6f" % (epoch, w, cost_now))

print("predict (after training)", 4, forward(4, w))
