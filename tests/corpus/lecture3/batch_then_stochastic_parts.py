# part 1: batch gradient descent
xs = [1, 2, 3]
ys = [2, 4, 6]
w = 1.0


def forward(x):
    return x * w


def cost(xs, ys):
    return sum((forward(x) - y) ** 2 for x, y in zip(xs, ys)) / len(xs)


def gradient(xs, ys):
    return sum(2 * x * (forward(x) - y) for x, y in zip(xs, ys)) / len(xs)


for epoch in range(100):
    w -= 0.01 * gradient(xs, ys)
print("batch:", w)

# part 2: stochastic gradient descent, from the same start
w = 1.0


def gradient(x, y):
    return 2 * x * (forward(x) - y)


for epoch in range(100):
    for x, y in zip(xs, ys):
        w -= 0.01 * gradient(x, y)
print("stochastic:", w, forward(4))
