# 第三讲：梯度下降
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = 1.0
learning_rate = 0.01


def forward(x):
    return x * w


# 损失函数（所有样本的平方误差之和）
def cost(xs, ys):
    total = 0
    for x, y in zip(xs, ys):
        total += (forward(x) - y) ** 2
    return total


# 梯度
def gradient(xs, ys):
    grad = 0
    for x, y in zip(xs, ys):
        grad += 2 * x * (x * w - y)
    return grad


print('训练前', 4, forward(4))
for epoch in range(100):
    cost_val = cost(x_data, y_data)
    grad_val = gradient(x_data, y_data)
    w -= learning_rate * grad_val
    if epoch % 10 == 0:
        print('epoch', epoch, 'w', round(w, 5), 'cost', round(cost_val, 5))
print('训练后', 4, forward(4))
