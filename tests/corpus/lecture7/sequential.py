import numpy as np
import torch

xy = np.loadtxt('diabetes.csv', delimiter=',', dtype=np.float32)
x_data = torch.from_numpy(xy[:, :-1])
y_data = torch.from_numpy(xy[:, [-1]])

model = torch.nn.Sequential(
    torch.nn.Linear(8, 6), torch.nn.Sigmoid(),
    torch.nn.Linear(6, 4), torch.nn.Sigmoid(),
    torch.nn.Linear(4, 1), torch.nn.Sigmoid(),
)
criterion = torch.nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(100):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print('loss', loss.item())
