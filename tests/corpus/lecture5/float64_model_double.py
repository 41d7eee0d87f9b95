import torch

x_data = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)
y_data = torch.tensor([[2.0], [4.0], [6.0]], dtype=torch.float64)


class LinearModel(torch.nn.Module):
    def __init__(self):
        super(LinearModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


model = LinearModel().double()
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

for epoch in range(1000):
    loss = criterion(model(x_data), y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

print('y_pred =', model(torch.tensor([[4.0]], dtype=torch.float64)).item())
