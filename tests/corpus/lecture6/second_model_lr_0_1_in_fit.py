# the lecture's training, then the same with lr 0.1 to compare how fast the loss falls
import torch

x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[0], [0], [1]])


class LogisticRegressionModel(torch.nn.Module):
    def __init__(self):
        super(LogisticRegressionModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


def fit(net, lr, epochs=1000):
    crit = torch.nn.BCELoss(size_average=False)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    for epoch in range(epochs):
        loss = crit(net(x_data), y_data)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


model = LogisticRegressionModel()
print('lr 0.01: final loss', fit(model, 0.01))

model_fast = LogisticRegressionModel()
print('lr 0.1:  final loss', fit(model_fast, 0.1))

print('P(pass | 4h):', model(torch.Tensor([[4.0]])).item(), model_fast(torch.Tensor([[4.0]])).item())
