import torch
import matplotlib.pyplot as plt

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = torch.Tensor([1.0])  # 权重
w.requires_grad = True   # 需要计算梯度

loss_list = []
epoch_list = []


def forward(x):
    return x * w  # w 是 Tensor，结果也是 Tensor


def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) ** 2


print("训练前", 4, forward(4).item())
for epoch in range(100):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)  # 前向，构建计算图
        l.backward()    # 反向传播
        print('\t梯度:', x, y, w.grad.item())
        w.data = w.data - 0.01 * w.grad.data  # 更新权重，用 .data 不建图
        w.grad.data.zero_()  # 梯度清零
    loss_list.append(l.item())
    epoch_list.append(epoch)
    print("进度:", epoch, l.item())

print("训练后", 4, forward(4).item())
plt.plot(epoch_list, loss_list)
plt.xlabel('epoch')
plt.ylabel('loss')
plt.savefig('lecture4_loss.png')
