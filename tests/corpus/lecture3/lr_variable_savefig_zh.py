# 梯度下降 —— 手动计算梯度
import numpy as np
import matplotlib.pyplot as plt

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = 1.0  # 初始权重
learning_rate = 0.01
num_epochs = 100


def forward(x):
    return x * w


def cost(xs, ys):
    """均方误差"""
    total = 0
    for x, y in zip(xs, ys):
        total += (forward(x) - y) ** 2
    return total / len(xs)


def gradient(xs, ys):
    """d cost / d w"""
    g = 0
    for x, y in zip(xs, ys):
        g += 2 * x * (x * w - y)
    return g / len(xs)


losses = []
print('训练前预测：', 4, forward(4))
for epoch in range(num_epochs):
    cost_val = cost(x_data, y_data)
    grad_val = gradient(x_data, y_data)
    w = w - learning_rate * grad_val
    losses.append(cost_val)
    if epoch % 10 == 0:
        print('第 %d 轮：w = %.4f，损失 = %.6f' % (epoch, w, cost_val))

print('训练后预测：', 4, forward(4))
plt.plot(np.arange(num_epochs), losses)
plt.xlabel('轮次')
plt.ylabel('损失')
plt.savefig('loss.png')
