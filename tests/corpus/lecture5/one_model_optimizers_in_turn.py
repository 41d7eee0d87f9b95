import torch

x = torch.tensor([[1.0], [2.0], [3.0]])
y = torch.tensor([[2.0], [4.0], [6.0]])


class LinearModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


model = LinearModel()  # 同一个模型，依次换优化器继续训练
criterion = torch.nn.MSELoss(reduction='sum')
for name in ['Adam', 'RMSprop', 'SGD']:
    optimizer = getattr(torch.optim, name)(model.parameters(), lr=0.01)
    for epoch in range(200):
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(name, loss.item())
