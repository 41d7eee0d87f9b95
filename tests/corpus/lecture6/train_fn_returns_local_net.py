import numpy as np
import torch


class LogisticRegressionModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


def load_data():
    x = np.array([[1.0], [2.0], [3.0]])
    y = np.array([[0.0], [0.0], [1.0]])
    return torch.from_numpy(x).float(), torch.from_numpy(y).float()


def train(x, y, epochs=1000, lr=0.01):
    net = LogisticRegressionModel()
    criterion = torch.nn.BCELoss(reduction='sum')
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    for epoch in range(epochs):
        loss = criterion(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch % 100 == 0:
            print(epoch, loss.item())
    return net


x_data, y_data = load_data()
model = train(x_data, y_data)
print('P(pass | 4 hours) =', model(torch.tensor([[4.0]])).item())
