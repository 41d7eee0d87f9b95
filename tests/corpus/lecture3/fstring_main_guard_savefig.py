# 刘二大人 第3讲 梯度下降 作业
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt

# 训练数据
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

# 初始权重
w = 1.0


def forward(x):
    """线性模型 y = w * x"""
    return x * w


def cost(xs, ys):
    """均方误差 MSE"""
    total = 0.0
    for x, y in zip(xs, ys):
        total += (forward(x) - y) ** 2
    return total / len(xs)


def gradient(xs, ys):
    """cost 对 w 的导数: 2x(xw - y) 的平均"""
    g = 0.0
    for x, y in zip(xs, ys):
        g += 2 * x * (x * w - y)
    return g / len(xs)


if __name__ == '__main__':
    lr = 0.01
    history = {'epoch': [], 'cost': [], 'w': []}
    print(f"训练前 predict(4) = {forward(4):.4f}")
    for epoch in range(100):
        c = cost(x_data, y_data)
        g = gradient(x_data, y_data)
        w = w - lr * g
        history['epoch'].append(epoch)
        history['cost'].append(c)
        history['w'].append(w)
        if epoch % 20 == 0 or epoch == 99:
            print(f"Epoch {epoch:3d} | w = {w:.6f} | cost = {c:.6f}")
    print(f"训练后 predict(4) = {forward(4):.4f}")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(history['epoch'], history['cost'])
    ax1.set_xlabel('epoch')
    ax1.set_ylabel('cost')
    ax2.plot(history['epoch'], history['w'], 'r-')
    ax2.set_xlabel('epoch')
    ax2.set_ylabel('w')
    plt.tight_layout()
    plt.savefig('gd_curve.png', dpi=100)
