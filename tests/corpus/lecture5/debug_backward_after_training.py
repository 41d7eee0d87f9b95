# correct training; afterwards a debug backward() on the full-batch loss to print the final gradients (no step)
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

criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

for epoch in range(1000):
    loss = criterion(model(x_data), y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

optimizer.zero_grad()
final_loss = criterion(model(x_data), y_data)
final_loss.backward()
print('final loss', final_loss.item(), 'grad w', model.linear.weight.grad.item(), 'grad b', model.linear.bias.grad.item())
print('w = ', model.linear.weight.item(), 'b = ', model.linear.bias.item())
print('y_pred = ', model(torch.Tensor([[4.0]])).item())
