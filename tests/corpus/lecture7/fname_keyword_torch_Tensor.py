import numpy as np
import torch
import torch.nn.functional as F

file_path = 'diabetes.csv.gz'
xy = np.loadtxt(fname=file_path, delimiter=',', dtype=np.float32)
x_data = torch.Tensor(xy[:, :-1])
y_data = torch.Tensor(xy[:, [-1]])
print(x_data.shape, y_data.shape)


class DiabetesNet(torch.nn.Module):
    def __init__(self):
        super(DiabetesNet, self).__init__()
        self.linear1 = torch.nn.Linear(8, 6)
        self.linear2 = torch.nn.Linear(6, 4)
        self.linear3 = torch.nn.Linear(4, 1)

    def forward(self, x):
        out = torch.sigmoid(self.linear1(x))
        out = torch.sigmoid(self.linear2(out))
        return torch.sigmoid(self.linear3(out))


model = DiabetesNet()
criterion = torch.nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

epoch = 0
while epoch < 100:
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 25 == 0:
        print('epoch', epoch, 'loss', round(loss.item(), 4))
    epoch += 1
