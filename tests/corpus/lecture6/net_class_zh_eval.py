# 逻辑回归：学习时间 -> 是否通过
import numpy as np
import torch
from torch import nn
import matplotlib.pyplot as plt

x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[0.0], [0.0], [1.0]])


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.linear = nn.Linear(1, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.linear(x))


model = Net()
criterion = nn.BCELoss(reduction='sum')  # 与 size_average=False 相同
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

for epoch in range(1000):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    if epoch % 100 == 0:
        print('第', epoch, '轮，损失：', loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

model.eval()
with torch.no_grad():
    x = np.linspace(0, 10, 200)
    y = model(torch.Tensor(x).view((200, 1))).numpy()
plt.plot(x, y)
plt.plot([0, 10], [0.5, 0.5], c='r')
plt.xlabel('学习时间（小时）')
plt.ylabel('通过的概率')
plt.grid()
plt.savefig('logistic.png')
print('学习 4 小时通过的概率：', model(torch.Tensor([[4.0]])).item())
