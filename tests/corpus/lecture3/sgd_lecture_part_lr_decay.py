x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = 1.0
lr = 0.01


def forward(x):
    return x * w


def cost(xs, ys):
    cost = 0
    for x, y in zip(xs, ys):
        cost += (forward(x) - y) ** 2
    return cost / len(xs)


def gradient(xs, ys):
    grad = 0
    for x, y in zip(xs, ys):
        grad += 2 * x * (x * w - y)
    return grad / len(xs)


# 学习率衰减：每轮乘 0.99
for epoch in range(100):
    cost_val = cost(x_data, y_data)
    w -= lr * gradient(x_data, y_data)
    lr *= 0.99
    print(epoch, w, cost_val)
print('predict', 4, forward(4))
