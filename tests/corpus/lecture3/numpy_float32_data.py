# correct: numpy float32 arrays for the data, loops over them
import numpy as np

x_data = np.array([1.0, 2.0, 3.0], dtype=np.float32)
y_data = np.array([2.0, 4.0, 6.0], dtype=np.float32)
w = 1.0


def forward(x):
    return x * w


def cost(xs, ys):
    total = 0
    for x, y in zip(xs, ys):
        total += (forward(x) - y) ** 2
    return total / len(xs)


def gradient(xs, ys):
    g = 0
    for x, y in zip(xs, ys):
        g += 2 * x * (x * w - y)
    return g / len(xs)


for epoch in range(100):
    c = cost(x_data, y_data)
    g = gradient(x_data, y_data)
    w -= 0.01 * g
    print('Epoch:', epoch, 'w=%.4f' % w, 'cost=%.6f' % c)
print('predict (after training)', 4, forward(4))
