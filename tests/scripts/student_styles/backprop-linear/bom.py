import torch
# 数据集
x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
权重 = torch.tensor([1.0], requires_grad=True)
w = 权重
def forward(x):
    return x * 权重
def loss(x, y):
    预测 = forward(x)
    return (预测 - y) ** 2
print("训练前预测", 4, forward(4).item())
for 轮次 in range(100):
    for x, y in zip(x_data, y_data):
        损失 = loss(x, y)
        损失.backward()
        print("\t梯度：", x, y, 权重.grad.item())
        权重.data = 权重.data - 0.01 * 权重.grad.data
        权重.grad.data.zero_()
    print("轮次：", 轮次, 损失.item())
print("训练后预测", 4, forward(4).item())
