import torch
from torch import nn, optim

x_data = torch.tensor([[1.0], [2.0], [3.0]])
y_data = torch.tensor([[2.0], [4.0], [6.0]])


class LinearModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


model = LinearModel()
criterion = nn.MSELoss(reduction='sum')
optimizer = optim.SGD(model.parameters(), lr=0.01)

loss_log = []
for epoch in range(1000):
    loss = criterion(model(x_data), y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 100 == 0:
        loss_log.append(loss.item())

print("每100轮的loss:", loss_log)
for name, param in model.named_parameters():
    print(name, param.data)

x_test = torch.tensor([[4.0]])
print("y_pred =", model(x_test).item())
