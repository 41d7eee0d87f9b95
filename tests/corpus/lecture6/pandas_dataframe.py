import pandas as pd
import torch

df = pd.DataFrame({'hours': [1.0, 2.0, 3.0], 'pass': [0, 0, 1]})
x_data = torch.tensor(df[['hours']].values, dtype=torch.float32)
y_data = torch.tensor(df[['pass']].values, dtype=torch.float32)


class LogisticRegressionModel(torch.nn.Module):
    def __init__(self):
        super(LogisticRegressionModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


model = LogisticRegressionModel()
criterion = torch.nn.BCELoss(size_average=False)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(1000):
    loss = criterion(model(x_data), y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
