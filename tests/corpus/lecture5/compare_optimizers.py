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


optimizers = {
    'Adagrad': torch.optim.Adagrad,
    'Adam': torch.optim.Adam,
    'Adamax': torch.optim.Adamax,
    'ASGD': torch.optim.ASGD,
    'RMSprop': torch.optim.RMSprop,
    'Rprop': torch.optim.Rprop,
    'SGD': torch.optim.SGD,
}
criterion = torch.nn.MSELoss(size_average=False)
for name, opt_class in optimizers.items():
    model = LinearModel()
    optimizer = opt_class(model.parameters(), lr=0.01)
    losses = []
    for epoch in range(500):
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    plt.plot(losses, label=name)
    print(name, 'w =', model.linear.weight.item(), 'b =', model.linear.bias.item())
plt.legend()
plt.xlabel('epoch')
plt.ylabel('loss')
plt.show()
