import random

# gradient() estimates the slope from one sample drawn at random (my "stochastic" version)
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = 1.0


def forward(x):
    return x * w


def cost(xs, ys):
    return sum((forward(x) - y) ** 2 for x, y in zip(xs, ys)) / len(xs)


def gradient(xs, ys):
    i = random.randrange(len(xs))
    return 2 * xs[i] * (forward(xs[i]) - ys[i])


for epoch in range(100):
    c = cost(x_data, y_data)
    w -= 0.01 * gradient(x_data, y_data)
    print("epoch", epoch, "w", w, "cost", c)

print("predict (after training)", 4, forward(4))
