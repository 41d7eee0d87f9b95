import torch

x_data = torch.Tensor([1.0, 2.0, 3.0]).view(-1, 1)
y_data = torch.Tensor([0, 0, 1]).view(-1, 1)


class LogisticRegressionModel(torch.nn.Module):
    def __init__(self):
        super(LogisticRegressionModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


model = LogisticRegressionModel()
criterion = torch.nn.BCELoss(size_average=False)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)


def train(epoch):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 100 == 99:
        print('[%d] loss: %.4f' % (epoch + 1, loss.item()))


if __name__ == '__main__':
    for epoch in range(1000):
        train(epoch)
    print('w =', model.linear.weight.item(), 'b =', model.linear.bias.item())
