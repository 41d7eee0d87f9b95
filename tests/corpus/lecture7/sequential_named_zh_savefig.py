# 多维输入：糖尿病数据集
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt

数据 = np.loadtxt('diabetes.csv.gz', delimiter=',', dtype=np.float32)
x_data = torch.from_numpy(数据[:, :-1])
y_data = torch.from_numpy(数据[:, [-1]])

model = nn.Sequential(OrderedDict([
    ('fc1', nn.Linear(8, 6)), ('act1', nn.Sigmoid()),
    ('fc2', nn.Linear(6, 4)), ('act2', nn.Sigmoid()),
    ('fc3', nn.Linear(4, 1)), ('act3', nn.Sigmoid()),
]))
criterion = nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

损失 = []
for epoch in range(100):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    损失.append(loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

plt.plot(损失)
plt.xlabel('轮次')
plt.ylabel('损失')
plt.savefig('损失.png')
print('最终损失：', 损失[-1])
