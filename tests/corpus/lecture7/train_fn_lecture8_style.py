import numpy as np
import torch


class Model(torch.nn.Module):
    def __init__(self):
        super(Model, self).__init__()
        self.linear1 = torch.nn.Linear(8, 6)
        self.linear2 = torch.nn.Linear(6, 4)
        self.linear3 = torch.nn.Linear(4, 1)
        self.activate = torch.nn.Sigmoid()

    def forward(self, x):
        x = self.activate(self.linear1(x))
        x = self.activate(self.linear2(x))
        x = self.activate(self.linear3(x))
        return x


def load(path):
    xy = np.loadtxt(path, delimiter=',', dtype=np.float32)
    return torch.from_numpy(xy[:, :-1]), torch.from_numpy(xy[:, [-1]])


x_data, y_data = load('../dataset/diabetes.csv.gz')
model = Model()
criterion = torch.nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def train(epoch):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def test():
    with torch.no_grad():
        y_pred = model(x_data)
        acc = torch.eq(y_pred.round(), y_data).float().mean().item()
    print('accuracy on train set: %.2f %%' % (100 * acc))


if __name__ == '__main__':
    for epoch in range(100):
        l = train(epoch)
        if epoch % 10 == 9:
            print(epoch + 1, l)
    test()
