# 用中文变量名写的梯度下降
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
权重 = 1.0
学习率 = 0.01


def forward(x):
    return x * 权重


def cost(xs, ys):
    损失 = 0
    for x, y in zip(xs, ys):
        损失 += (forward(x) - y) ** 2
    return 损失 / len(xs)


def gradient(xs, ys):
    梯度 = 0
    for x, y in zip(xs, ys):
        梯度 += 2 * x * (x * 权重 - y)
    return 梯度 / len(xs)


for 轮次 in range(100):
    当前损失 = cost(x_data, y_data)
    权重 -= 学习率 * gradient(x_data, y_data)
    print('第', 轮次, '轮：权重 =', 权重, '损失 =', 当前损失)
print('训练后预测 x=4:', forward(4))
