import numpy as np
import torch
import matplotlib.pyplot as plt

# 读取糖尿病数据集
xy = np.loadtxt('diabetes.csv', delimiter=',', dtype=np.float32)
x_data = torch.from_numpy(xy[:, :-1])
y_data = torch.from_numpy(xy[:, [-1]])


class Model(torch.nn.Module):
    def __init__(self):
        super(Model, self).__init__()
        self.linear1 = torch.nn.Linear(8, 6)
        self.linear2 = torch.nn.Linear(6, 4)
        self.linear3 = torch.nn.Linear(4, 1)
        self.sigmoid = torch.nn.Sigmoid()

    def forward(self, x):
        x = self.sigmoid(self.linear1(x))
        x = self.sigmoid(self.linear2(x))
        x = self.sigmoid(self.linear3(x))
        return x


model = Model()
criterion = torch.nn.BCELoss(reduction='mean')
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

损失列表 = []
for epoch in range(100):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    损失列表.append(loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    # 计算准确率
    y_label = torch.where(y_pred >= 0.5, torch.tensor([1.0]), torch.tensor([0.0]))
    acc = torch.eq(y_label, y_data).sum().item() / y_data.size(0)
    if epoch % 10 == 0:
        print('第', epoch, '轮，loss =', loss.item(), '准确率 =', acc)

plt.plot(range(100), 损失列表)
plt.xlabel('epoch')
plt.ylabel('loss')
plt.show()
