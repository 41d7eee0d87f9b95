# Lecture 5 homework: the same linear model trained with several optimisers, one fresh model each.
import torch

x_data = torch.tensor([[1.0], [2.0], [3.0]])
y_data = torch.tensor([[2.0], [4.0], [6.0]])


class LinearModel(torch.nn.Module):
    def __init__(self):
        super(LinearModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


criterion = torch.nn.MSELoss(reduction='sum')
losses = {}
for name in ['Adagrad', 'Adam', 'Adamax', 'ASGD', 'RMSprop', 'Rprop', 'SGD']:
    model = LinearModel()
    optimizer = getattr(torch.optim, name)(model.parameters(), lr=0.01)
    for epoch in range(500):
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    losses[name] = loss.item()
print(losses)
