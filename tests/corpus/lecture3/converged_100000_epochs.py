# far more epochs than needed: w has long stopped moving
data_x = [1.0, 2.0, 3.0]
data_y = [2.0, 4.0, 6.0]
w = 1.0
learning_rate = 0.01


def forward(x):
    return x * w


def cost(xs, ys):
    total = 0.0
    for x, y in zip(xs, ys):
        total += (forward(x) - y) ** 2
    return total / len(xs)


def gradient(xs, ys):
    total = 0.0
    for x, y in zip(xs, ys):
        total += 2 * x * (forward(x) - y)
    return total / len(xs)


for epoch in range(100000):
    c = cost(data_x, data_y)
    w = w - learning_rate * gradient(data_x, data_y)
    if epoch % 20000 == 0:
        print("epoch", epoch, "w", w, "cost", c)
print("forward(4) after training:", forward(4))
