import torch
import matplotlib.pyplot as plt
# 训练数据
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
# 初始化参数
w1 = torch.Tensor([1.0]); w1.requires_grad = True
w2 = torch.Tensor([1.0]); w2.requires_grad = True
b = torch.Tensor([1.0]); b.requires_grad = True
学习率 = 0.01
def forward(x):
    """前向传播"""
    return w1 * x ** 2 + w2 * x + b
def loss(x, y):
    """损失函数"""
    return (forward(x) - y) ** 2
损失列表 = []
for 轮 in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        print("\t梯度：", x, y, w1.grad.item(), w2.grad.item(), b.grad.item())
        w1.data = w1.data - 学习率 * w1.grad.data
        w2.data = w2.data - 学习率 * w2.grad.data
        b.data = b.data - 学习率 * b.grad.data
        w1.grad.data.zero_()
        w2.grad.data.zero_()
        b.grad.data.zero_()
    损失列表.append(l.item())
    print("第%d轮，损失=%.4f" % (轮, l.item()))
print("训练后预测 x=4：", forward(4).item())
plt.plot(range(100), 损失列表)
plt.xlabel("轮次"); plt.ylabel("损失")
plt.show()
