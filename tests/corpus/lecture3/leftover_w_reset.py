x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = 1.0


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


for epoch in range(100):
    cost_val = cost(x_data, y_data)
    w -= 0.01 * gradient(x_data, y_data)
print('predict (after training)', 4, forward(4))

# 下面试一下穷举法（第二讲）
import numpy as np
for w in np.arange(0.0, 4.1, 0.1):
    print(w, cost(x_data, y_data))
