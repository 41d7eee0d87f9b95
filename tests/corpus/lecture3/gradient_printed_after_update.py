# correct: prints the gradient again after each update (a second gradient() call per epoch, for display only)
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


for epoch in range(100):
    cost_val = cost(xs=x_data, ys=y_data)
    grad_val = gradient(xs=x_data, ys=y_data)
    w -= 0.01 * grad_val
    print('epoch', epoch, 'w', round(w, 4), 'new cost', cost(x_data, y_data), 'new grad', gradient(x_data, y_data))
print('predict (after training)', 4, forward(4))
