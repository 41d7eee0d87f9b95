import numpy as np
import torch
import torch.nn as nn

data = np.loadtxt('diabetes.csv.gz', delimiter=',', dtype=np.float32)
features = torch.from_numpy(data[:, :-1])
labels = torch.from_numpy(data[:, -1])  # 一维标签，下面把输出 squeeze 成一维


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(8, 6)
        self.linear2 = nn.Linear(6, 4)
        self.linear3 = nn.Linear(4, 1)

    def forward(self, x):
        x = torch.sigmoid(self.linear1(x))
        x = torch.sigmoid(self.linear2(x))
        return torch.sigmoid(self.linear3(x))


model = Net()
criterion = nn.BCELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

for epoch in range(300):
    loss = criterion(model(features).squeeze(), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 50 == 0:
        print(epoch, round(loss.item(), 4))
