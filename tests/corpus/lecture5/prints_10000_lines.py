import torch

x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[2.0], [4.0], [6.0]])


class LinearModel(torch.nn.Module):
    def __init__(self):
        super(LinearModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


model = LinearModel()
criterion = torch.nn.MSELoss(size_average=False)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

for epoch in range(1000):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    print('=' * 30)
    print('epoch:', epoch)
    print('loss:', loss.item())
    for i in range(3):
        print('  sample', i, 'y_pred =', y_pred[i].item(), 'y =', y_data[i].item())
    optimizer.zero_grad()
    loss.backward()
    print('  grad w =', model.linear.weight.grad.item(), 'grad b =', model.linear.bias.grad.item())
    optimizer.step()
    print('  w =', model.linear.weight.item(), 'b =', model.linear.bias.item())
    print('-' * 30)

print('w = ', model.linear.weight.item())
print('b = ', model.linear.bias.item())
