import torch
import torch.nn as nn


class LinearModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


class Trainer:
    def __init__(self, model, criterion, optimizer):
        self.model = model
        self.criterion = criterion
        self.optimizer = optimizer

    def train_step(self, x, y):
        y_pred = self.model(x)
        loss = self.criterion(y_pred, y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def fit(self, x, y, epochs):
        for epoch in range(epochs):
            l = self.train_step(x, y)
            if epoch % 200 == 0:
                print(f"[{epoch:4d}] loss = {l:.4f}")


x_data = torch.arange(1, 4, dtype=torch.float32).view(-1, 1)   # [[1],[2],[3]]
y_data = x_data * 2

model = LinearModel()
criterion = nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

if __name__ == '__main__':
    Trainer(model, criterion, optimizer).fit(x_data, y_data, 1000)
    print('w =', model.linear.weight.item())
    print('b =', model.linear.bias.item())
    print('predict 4 ->', model(torch.tensor([[4.0]])).item())
