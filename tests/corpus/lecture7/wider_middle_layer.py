import numpy as np
import torch

xy = np.loadtxt('diabetes.csv.gz', delimiter=',', dtype=np.float32)
x = torch.from_numpy(xy[:, :-1])
y = torch.from_numpy(xy[:, [-1]])


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        # 中间层改宽了：8 -> 6 -> 5 -> 1
        self.linear1 = torch.nn.Linear(8, 6)
        self.linear2 = torch.nn.Linear(6, 5)
        self.linear3 = torch.nn.Linear(5, 1)

    def forward(self, x):
        h = torch.sigmoid(self.linear1(x))
        h = torch.sigmoid(self.linear2(h))
        return torch.sigmoid(self.linear3(h))


model = Model()
criterion = torch.nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(100):
    loss = criterion(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(loss.item())
