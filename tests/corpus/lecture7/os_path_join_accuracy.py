import os
import numpy as np
import torch
from torch import nn

# 读取数据
path = os.path.join('.', 'diabetes.csv.gz')
xy = np.loadtxt(path, delimiter=',', dtype=np.float32)
x_data = torch.from_numpy(xy[:, :-1])
y_data = torch.from_numpy(xy[:, [-1]])
print('x:', x_data.shape, 'y:', y_data.shape)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(8, 6)
        self.linear2 = nn.Linear(6, 4)
        self.linear3 = nn.Linear(4, 1)
        self.activate = nn.Sigmoid()

    def forward(self, x):
        x = self.activate(self.linear1(x))
        x = self.activate(self.linear2(x))
        x = self.activate(self.linear3(x))
        return x


model = Model()
criterion = nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for epoch in range(100):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 10 == 0:
        acc = ((y_pred > 0.5).float() == y_data).float().mean()
        print(f"epoch {epoch:3d}: loss = {loss.item():.4f}, acc = {acc.item() * 100:.1f}%")
