import numpy as np
import torch

x_np = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
y_np = np.array([[2.0], [4.0], [6.0]], dtype=np.float32)
x_data = torch.from_numpy(x_np)
y_data = torch.from_numpy(y_np)


class LinearModel(torch.nn.Module):
    def __init__(self):
        super(LinearModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


model = LinearModel()
criterion = torch.nn.MSELoss(size_average=False)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
loss_list = []
for epoch in range(1000):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    loss_list.append(loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print('final loss', loss_list[-1])
print('predict 4 ->', model(torch.from_numpy(np.array([[4.0]], dtype=np.float32))).item())
