# ONE deviation (a bug): the gradient is computed once, before the loop, and that same value is used for all 100 updates
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = 1.0


def forward(x):
    return x * w


def cost(xs, ys):
    c = 0
    for x, y in zip(xs, ys):
        c += (forward(x) - y) ** 2
    return c / len(xs)


def gradient(xs, ys):
    g = 0
    for x, y in zip(xs, ys):
        g += 2 * x * (forward(x) - y)
    return g / len(xs)


grad_val = gradient(x_data, y_data)
for epoch in range(100):
    cost_val = cost(x_data, y_data)
    w -= 0.01 * grad_val
    print('epoch', epoch, 'w', w, 'cost', cost_val)
print('predict (after training)', 4, forward(4))
