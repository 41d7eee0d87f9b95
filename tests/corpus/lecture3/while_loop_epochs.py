# 梯度下降  while 循环版
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = 1.0
lr = 0.01


def forward(x):
    return x * w


def cost(xs, ys):
    total = 0
    for x, y in zip(xs, ys):
        total += (forward(x) - y) ** 2
    return total / len(xs)


def gradient(xs, ys):
    grad = 0
    for x, y in zip(xs, ys):
        grad += 2 * x * (x * w - y)
    return grad / len(xs)


epoch = 0
while epoch < 100:
    cost_val = cost(x_data, y_data)
    w = w - lr * gradient(x_data, y_data)
    print('Epoch:%d, w=%.4f, loss=%.6f' % (epoch, w, cost_val))
    epoch += 1
print('Predict (after training)', 4, forward(4))
