import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = torch.Tensor([1.0])
w.requires_grad = True


def 前向(x):
    return x * w


def 损失(x, y):
    return (前向(x) - y) ** 2


for 轮 in range(100):
    for x, y in zip(x_data, y_data):
        l = 损失(x, y)
        l.backward()
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
    print('第', 轮, '轮 损失', l.item())
print('训练后 x=4 的预测:', 前向(4).item())
