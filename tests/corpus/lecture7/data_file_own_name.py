import numpy as np
import torch

# 数据是从网上下载的，改名成了 pima.csv
dataset = np.loadtxt('pima.csv', delimiter=',', dtype=np.float32)
inputs = torch.from_numpy(dataset[:, :-1])
targets = torch.from_numpy(dataset[:, [-1]])

model = torch.nn.Sequential(
    torch.nn.Linear(8, 6), torch.nn.Sigmoid(),
    torch.nn.Linear(6, 4), torch.nn.Sigmoid(),
    torch.nn.Linear(4, 1), torch.nn.Sigmoid(),
)
criterion = torch.nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(100):
    loss = criterion(model(inputs), targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
