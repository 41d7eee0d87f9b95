import torch
import torch.nn as nn

torch.manual_seed(2023)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1, 1)

    def forward(self, x):
        return self.fc(x)


x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[2.0], [4.0], [6.0]])
net = Net()
criterion = nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(net.parameters(), lr=1e-2)

for epoch in range(1000):
    optimizer.zero_grad(set_to_none=True)
    loss = criterion(net(x_data), y_data)
    loss.backward()
    optimizer.step()
    if (epoch + 1) % 100 == 0:
        print('epoch {}, loss {:.6f}'.format(epoch + 1, loss.item()))

print('w =', net.fc.weight.item(), 'b =', net.fc.bias.item())
x_test = torch.Tensor([[4.0]])
print('y_pred =', net(x_test).data)
