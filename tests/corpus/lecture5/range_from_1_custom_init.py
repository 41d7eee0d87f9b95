import torch
import torch.nn as nn

x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[2.0], [4.0], [6.0]])


class LinearModel(nn.Module):
    def __init__(self):
        super(LinearModel, self).__init__()
        self.linear = nn.Linear(1, 1)
        nn.init.constant_(self.linear.weight, 1.0)  # 自己初始化
        nn.init.zeros_(self.linear.bias)

    def forward(self, x):
        return self.linear(x)


model = LinearModel()
criterion = nn.MSELoss(size_average=False)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

train_loss = []
for epoch in range(1, 1001):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    train_loss.append(loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 200 == 0:
        print('epoch', epoch, 'loss', loss)

print(model.linear.weight.data, model.linear.bias.data)
