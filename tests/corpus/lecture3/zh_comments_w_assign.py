# 第三讲 梯度下降 作业
import matplotlib.pyplot as plt

# 数据集
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

# 初始权重
w = 1.0


# 线性模型
def forward(x):
    return x * w


# 均方误差 MSE
def cost(xs, ys):
    cost = 0
    for x, y in zip(xs, ys):
        cost = cost + (forward(x) - y) ** 2
    return cost / len(xs)


# 梯度 d(cost)/dw
def gradient(xs, ys):
    grad = 0
    for x, y in zip(xs, ys):
        grad = grad + 2 * x * (x * w - y)
    return grad / len(xs)


轮数 = []
损失 = []
print('训练前预测', 4, forward(4))
for epoch in range(100):
    cost_val = cost(x_data, y_data)
    grad_val = gradient(x_data, y_data)
    w = w - 0.01 * grad_val  # 更新权重
    轮数.append(epoch)
    损失.append(cost_val)
    if epoch % 10 == 0:
        print('第%d轮  w=%.4f  loss=%.6f' % (epoch, w, cost_val))
print('训练后预测', 4, forward(4))
plt.plot(轮数, 损失)
plt.xlabel('epoch')
plt.ylabel('cost')
plt.show()
