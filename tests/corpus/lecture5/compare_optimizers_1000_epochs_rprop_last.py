# the lecture 5 homework at the course's 1000 epochs: seven optimizers, each loss list plotted, Rprop last (7000 steps)
import torch
import matplotlib.pyplot as plt
x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[2.0], [4.0], [6.0]])

class LinearModel(torch.nn.Module):
    def __init__(self):
        super(LinearModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)
    def forward(self, x):
        return self.linear(x)

optims = {'SGD': lambda p: torch.optim.SGD(p, lr=0.01), 'Adam': lambda p: torch.optim.Adam(p, lr=0.01),
          'Adagrad': lambda p: torch.optim.Adagrad(p, lr=0.01), 'Adamax': lambda p: torch.optim.Adamax(p, lr=0.01),
          'ASGD': lambda p: torch.optim.ASGD(p, lr=0.01), 'RMSprop': lambda p: torch.optim.RMSprop(p, lr=0.01),
          'Rprop': lambda p: torch.optim.Rprop(p, lr=0.01)}
for name, make in optims.items():
    model = LinearModel()
    criterion = torch.nn.MSELoss(reduction='sum')
    optimizer = make(model.parameters())
    losses = []
    for epoch in range(1000):
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    plt.plot(range(1000), losses, label=name)
    print(name, model.linear.weight.item(), model.linear.bias.item())
plt.legend(); plt.show()
