import torch

x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[2.0], [4.0], [6.0]])


class LinearModel(torch.nn.Module):
    def __init__(self):
        super(LinearModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


model = LinearModel()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

epoch = 0
while epoch < 1000:
    loss = torch.sum((model(x_data) - y_data) ** 2)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    epoch += 1

print('w =', model.linear.weight.item(), 'b =', model.linear.bias.item())
