import numpy as np
import matplotlib.pyplot as plt

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = 1.0


def forward(x):
    return x * w


def cost(xs, ys):
    xs, ys = np.array(xs), np.array(ys)
    return np.mean((forward(xs) - ys) ** 2)


def gradient(xs, ys):
    xs, ys = np.array(xs), np.array(ys)
    return np.mean(2 * xs * (xs * w - ys))


history = []
for epoch in range(100):
    cost_val = cost(x_data, y_data)
    w -= 0.01 * gradient(x_data, y_data)
    history.append(cost_val)
print('w =', w, 'predict 4 ->', forward(4))
plt.plot(range(100), history)
plt.show()
