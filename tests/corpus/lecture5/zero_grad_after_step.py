import torch

x_data = torch.tensor([[1.0], [2.0], [3.0]])
y_data = torch.tensor([[2.0], [4.0], [6.0]])


class LinearModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


model = LinearModel()
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

for epoch in range(1000):
    loss = criterion(model(x_data), y_data)
    loss.backward()
    optimizer.step()
    model.zero_grad()
    if epoch % 100 == 99:
        print(f'epoch {epoch + 1}: loss = {loss.item():.6f}')

with torch.no_grad():
    print('x = 4 ->', model(torch.tensor([[4.0]])).item())
