import pandas as pd
import torch

df = pd.read_csv('diabetes.csv.gz', header=None)
x_data = torch.tensor(df.iloc[:, :-1].values, dtype=torch.float32)
y_data = torch.tensor(df.iloc[:, [-1]].values, dtype=torch.float32)


class Model(torch.nn.Module):
    def __init__(self):
        super(Model, self).__init__()
        self.linear1 = torch.nn.Linear(8, 6)
        self.linear2 = torch.nn.Linear(6, 4)
        self.linear3 = torch.nn.Linear(4, 1)
        self.sigmoid = torch.nn.Sigmoid()

    def forward(self, x):
        x = self.sigmoid(self.linear1(x))
        x = self.sigmoid(self.linear2(x))
        x = self.sigmoid(self.linear3(x))
        return x


model = Model()
criterion = torch.nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(100):
    loss = criterion(model(x_data), y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
